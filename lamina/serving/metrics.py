"""The server's counters, written in Prometheus's text exposition format (``GET /metrics``)."""

import collections
import threading

# Upper bounds of the histogram buckets: rows per model call, and requests merged per call.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class _Histogram:
    def __init__(self, bounds):
        self.bounds = bounds
        self.counts = [0] * len(bounds)
        self.sum = 0.0
        self.count = 0

    def observe(self, value):
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
                break
        self.sum += value
        self.count += 1

    def lines(self, name, labels=""):
        out, running = [], 0
        sep = "," if labels else ""
        for bound, n in zip(self.bounds, self.counts):
            running += n
            out.append(f'{name}_bucket{{{labels}{sep}le="{bound}"}} {running}')
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}')
        suffix = f"{{{labels}}}" if labels else ""
        out.append(f"{name}_sum{suffix} {_num(self.sum)}")
        out.append(f"{name}_count{suffix} {self.count}")
        return out


def _num(x):
    return repr(float(x)) if isinstance(x, float) else str(x)


class ServingMetrics:
    """Request counts by endpoint and status, request latency, and batch sizes (thread-safe).

    Example:
    >>> m = ServingMetrics("demo")
    >>> m.record_request("predict", 200, 0.01)
    >>> 'lamina_requests_total{model="demo",endpoint="predict",status="200"} 1' in m.render()
    True
    """

    def __init__(self, model_name):
        self.model_name = model_name
        self._lock = threading.Lock()
        self._requests = collections.Counter()
        self._latency_sum = collections.defaultdict(float)
        self._latency_count = collections.Counter()
        self._batch_rows = _Histogram(BATCH_BUCKETS)
        self._batch_requests = _Histogram(BATCH_BUCKETS)
        self._model_seconds = 0.0
        self._in_flight = 0

    def request_started(self):
        with self._lock:
            self._in_flight += 1

    def request_finished(self):
        with self._lock:
            self._in_flight -= 1

    def record_request(self, endpoint, status, seconds):
        with self._lock:
            self._requests[(endpoint, int(status))] += 1
            self._latency_sum[endpoint] += seconds
            self._latency_count[endpoint] += 1

    def record_batch(self, rows, requests, seconds):
        with self._lock:
            self._batch_rows.observe(rows)
            self._batch_requests.observe(requests)
            self._model_seconds += seconds

    def render(self):
        """The metrics as Prometheus text (version 0.0.4)."""
        model = f'model="{self.model_name}"'
        with self._lock:
            lines = ["# HELP lamina_requests_total HTTP requests answered, by endpoint and status code.",
                     "# TYPE lamina_requests_total counter"]
            for (endpoint, status), n in sorted(self._requests.items()):
                lines.append(f'lamina_requests_total{{{model},endpoint="{endpoint}",status="{status}"}} {n}')
            lines += ["# HELP lamina_request_latency_seconds Time from receiving a request to answering it.",
                      "# TYPE lamina_request_latency_seconds summary"]
            for endpoint in sorted(self._latency_count):
                labels = f'{{{model},endpoint="{endpoint}"}}'
                lines.append(f"lamina_request_latency_seconds_sum{labels} {_num(self._latency_sum[endpoint])}")
                lines.append(f"lamina_request_latency_seconds_count{labels} {self._latency_count[endpoint]}")
            lines += ["# HELP lamina_batch_size Rows (instances) per model call.",
                      "# TYPE lamina_batch_size histogram"]
            lines += self._batch_rows.lines("lamina_batch_size", model)
            lines += ["# HELP lamina_batch_requests Requests merged into one model call.",
                      "# TYPE lamina_batch_requests histogram"]
            lines += self._batch_requests.lines("lamina_batch_requests", model)
            lines += ["# HELP lamina_model_seconds_total Time spent in model calls.",
                      "# TYPE lamina_model_seconds_total counter",
                      f"lamina_model_seconds_total{{{model}}} {_num(self._model_seconds)}",
                      "# HELP lamina_requests_in_flight Predict requests received and not yet answered.",
                      "# TYPE lamina_requests_in_flight gauge",
                      f"lamina_requests_in_flight{{{model}}} {self._in_flight}"]
        return "\n".join(lines) + "\n"
