#!/usr/bin/env python3
"""Checks a psi-hub /metrics page with Prometheus's own parser
(python3-prometheus-client), against the hub's /status.json and its request
log (text lines) taken at the same time.

  metrics_check.py METRICS STATUS_JSON HUB_LOG NAME=VALUE...

Each NAME=VALUE is a sample that must be there with that value
(NAME may carry labels as the exposition writes them: name{l="v"}). Also:
every family psi-hub promises is there with its type; the store gauges equal
/status.json's; the requests counted equal the request lines of the log, by
method and result, and the refusals its warn lines; each histogram's +Inf
bucket equals its count and its buckets never decrease. Prints one line per
failure and exits 1, or "ok" and a summary.
"""
import json
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

FAMILIES = {
    "psi_hub_requests": "counter",
    "psi_hub_refusals": "counter",
    "psi_hub_request_duration_seconds": "histogram",
    "psi_hub_info": "gauge",
    "psi_hub_elements_stored": "gauge",
    "psi_hub_tags_stored": "gauge",
    "psi_hub_matches_stored": "gauge",
    "psi_hub_log_entries": "gauge",
    "psi_hub_store_bytes": "gauge",
    "psi_hub_participants": "gauge",
}

# 2026-12-02T13:45:01.123Z LEVEL PARTICIPANT METHOD RESULT Nms in=N out=N
REQUEST_LINE = re.compile(
    r"^\S+Z (error|warn|info|debug) (\S+) (\S+) (\S+) \d+ms in=\d+ out=\d+$")


def main():
    metrics_path, status_path, log_path = sys.argv[1:4]
    wanted = sys.argv[4:]
    text = open(metrics_path, encoding="utf-8").read()
    status = json.load(open(status_path, encoding="utf-8"))
    failures = []
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {}
    for f in families.values():
        for s in f.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            samples[s.name + ("{" + labels + "}" if labels else "")] = s.value
    for name, kind in FAMILIES.items():
        if name not in families:
            failures.append(f"family {name} is missing")
        elif families[name].type != kind:
            failures.append(f"family {name} is a {families[name].type}, not a {kind}")
    for want in wanted:
        name, value = want.rsplit("=", 1)
        if name not in samples:
            failures.append(f"sample {name} is missing")
        elif samples[name] != float(value):
            failures.append(f"{name} is {samples[name]:g}, not {value}")
    store = status["store"]
    for gauge, value in [("psi_hub_elements_stored", store["elements"]),
                         ("psi_hub_tags_stored", store["tags"]),
                         ("psi_hub_matches_stored", store["matches"]),
                         ("psi_hub_log_entries", status["log"]["size"])]:
        if samples.get(gauge) != float(value):
            failures.append(f"{gauge} is {samples.get(gauge)}, /status.json says {value}")
    # the requests the log shows, by (method, result); the warn lines
    logged, warned = {}, {}
    for line in open(log_path, encoding="utf-8", errors="replace"):
        m = REQUEST_LINE.match(line.rstrip("\n"))
        if not m:
            continue
        level, _, method, result = m.groups()
        logged[(method, result)] = logged.get((method, result), 0) + 1
        if level == "warn":
            warned[(method, result)] = warned.get((method, result), 0) + 1
    counted, refused = {}, {}
    for s in families.get("psi_hub_requests", FAMILIES).samples:
        if s.name == "psi_hub_requests_total":
            counted[(s.labels["method"], s.labels["result"])] = int(s.value)
    for s in families.get("psi_hub_refusals", FAMILIES).samples:
        if s.name == "psi_hub_refusals_total":
            refused[(s.labels["method"], s.labels["result"])] = int(s.value)
    if counted != logged:
        failures.append(f"requests counted {sorted(counted.items())} != logged "
                        f"{sorted(logged.items())}")
    if refused != warned:
        failures.append(f"refusals counted {sorted(refused.items())} != warn lines "
                        f"{sorted(warned.items())}")
    histogram = families.get("psi_hub_request_duration_seconds")
    by_method = {}
    for s in histogram.samples if histogram else []:
        by_method.setdefault(s.labels["method"], []).append(s)
    for method, ss in by_method.items():
        buckets = [s for s in ss if s.name.endswith("_bucket")]
        count = [s.value for s in ss if s.name.endswith("_count")]
        values = [s.value for s in buckets]
        if values != sorted(values):
            failures.append(f"buckets of {method} decrease: {values}")
        inf = [s.value for s in buckets if s.labels["le"] == "+Inf"]
        if inf != count:
            failures.append(f"+Inf bucket of {method} {inf} != count {count}")
        total = sum(v for (m, _), v in counted.items() if m == method)
        if count != [total]:
            failures.append(f"histogram count of {method} {count} != requests {total}")
    for f in failures:
        print(f"metrics_check: {f}")
    if failures:
        sys.exit(1)
    print(f"ok: {len(families)} families, {len(samples)} samples, "
          f"{sum(counted.values())} requests, {sum(refused.values())} refusals")


if __name__ == "__main__":
    main()
