#!/usr/bin/env python3
"""HTTP requests for the tests of psi-hub serve --http, from the standard
library only (no curl on a fresh Debian).

  http_probe.py get URL OUT          writes the body to OUT, prints the status
  http_probe.py raw HOST PORT METHOD PATH   prints the status, or "closed" when
                                     the server closed without an answer
  http_probe.py time URL N           GETs URL N times; prints the median time in
                                     ms and the body's size in bytes
"""
import statistics
import time
import http.client
import sys
import urllib.error
import urllib.request


def get(url, out):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            body, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    with open(out, "wb") as f:
        f.write(body)
    print(status)


def raw(host, port, method, path):
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path)
        print(conn.getresponse().status)
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        print("closed")
    finally:
        conn.close()


def timed(url, n):
    times, size = [], 0
    for _ in range(int(n)):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as r:
            size = len(r.read())
        times.append((time.perf_counter() - start) * 1000)
    print(f"{statistics.median(times):.1f} {size}")


if __name__ == "__main__":
    if sys.argv[1] == "get":
        get(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "time":
        timed(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "raw":
        raw(*sys.argv[2:6])
    else:
        sys.exit("usage: http_probe.py get URL OUT | raw HOST PORT METHOD PATH")
