"""What a search shows: the progress of its trials (``search(verbose=1)``) and a plot of their scores."""

import math

_MISSING = object()


def format_duration(seconds):
    """``'01h 02m 03s'``, as Keras Tuner writes durations."""
    seconds = int(round(max(0.0, seconds)))
    return f"{seconds // 3600:02d}h {seconds // 60 % 60:02d}m {seconds % 60:02d}s"


def _cell(value):
    if value is _MISSING:
        return "?"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def objective_label(objectives):
    """The name shown for the score: the metric, or ``multi_objective`` (Keras Tuner's sum) for several."""
    if len(objectives) > 1:
        return "multi_objective"
    return objectives[0].name


def print_trial_start(number, values, best_values):
    """Print ``Search: Running Trial #N`` and a table of this trial's values beside the best trial's."""
    print()
    print(f"Search: Running Trial #{number}")
    print()
    names = list(values) + [n for n in (best_values or {}) if n not in values]
    rows = [(_cell(values.get(n, _MISSING)), _cell((best_values or {}).get(n, _MISSING)) if best_values is not None
             else "?", n) for n in names]
    header = ("Value", "Best Value So Far", "Hyperparameter")
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) + 1 for i in range(2)]
    for row in [header] + rows:
        print(f"{row[0]:<{widths[0]}}|{row[1]:<{widths[1]}}|{row[2]}")
    print()


def print_trial_end(number, state, elapsed, objectives, values, best_score, total_elapsed):
    """Print the trial's duration and objective values, the best score so far and the total time."""
    word = "Stopped early" if state == "STOPPED" else "Complete"
    print()
    print(f"Trial {number} {word} [{format_duration(elapsed)}]")
    for o, v in zip(objectives, values or []):
        print(f"{o.name}: {v:.6g}")
    print()
    label = objective_label(objectives)
    print(f"Best {label} So Far: " + ("None" if best_score is None else f"{best_score:.6g}"))
    print(f"Total elapsed time: {format_duration(total_elapsed)}")


def search_space_summary(space):
    """Print the hyperparameters of a search space (``Tuner.search_space_summary``)."""
    print("Search space summary")
    print(f"Default search space size: {len(space)}")
    for spec in space:
        print(f"{spec.name} ({spec.kind.capitalize()})")
        print(spec.describe())


def results_summary(tuner, num_trials=10):
    """Print the best ``num_trials`` trials: their hyperparameters and score (``Tuner.results_summary``)."""
    print("Results summary")
    print(f"Results in {tuner.project_dir}")
    print(f"Showing {num_trials} best trials")
    print(tuner.oracle.objective)
    for t in tuner.oracle.get_best_trials(num_trials):
        print()
        print(f"Trial {t.trial_id} summary")
        print("Hyperparameters:")
        for k, v in t.hyperparameters.values.items():
            print(f"{k}: {v}")
        print(f"Score: {t.score}")


def plot_history(tuner, path=None, ax=None, figsize=None):
    """Draw each finished trial's score and the best score so far, against the trial number.

    See ``Tuner.plot_history``.
    """
    try:
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError as e:
        raise ImportError(f"Tuner.plot_history needs matplotlib ({e}). Install it with `pip install matplotlib`.") \
            from e
    objectives = tuner.objectives
    trials = [t for t in tuner.oracle.trials.values()
              if t.status in ("COMPLETED", "STOPPED") and t.score is not None and not math.isnan(t.score)]
    if not trials:
        raise ValueError("Tuner.plot_history: the search has no finished trial with a score yet; "
                         "run tuner.search(...) first.")
    minimize = len(objectives) > 1 or objectives[0].direction == "min"
    label = objective_label(objectives)
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize or (6.0, 4.0))
        own = True
    else:
        fig, own = ax.figure, False
    for status, marker, name in (("COMPLETED", "o", "trial"), ("STOPPED", "x", "stopped early")):
        pts = [(t.number + 1, t.score) for t in trials if t.status == status]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker, linestyle="none", label=name)
    ranked = [t for t in trials if t.status == "COMPLETED"] or trials
    xs, best, current = [], [], None
    for t in sorted(ranked, key=lambda t: t.number):
        if current is None or (t.score < current if minimize else t.score > current):
            current = t.score
        xs.append(t.number + 1)
        best.append(current)
    ax.step(xs, best, where="post", label="best so far")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(label if len(objectives) == 1 else "sum of the objectives (signed to minimize)")
    ax.set_title(f"{tuner.project_name}: {label}")
    ax.legend()
    if path is not None:
        fig.savefig(path)
        if own:
            plt.close(fig)  # written out: do not keep it among pyplot's open figures
    return fig
