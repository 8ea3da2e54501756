#!/usr/bin/env python3
"""HTTP requests for the tests of psi-hub serve --http, from the standard
library only (no curl on a fresh Debian).

  http_probe.py get URL OUT          writes the body to OUT, prints the status
  http_probe.py raw HOST PORT METHOD PATH   prints the status, or "closed" when
                                     the server closed without an answer
"""
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


if __name__ == "__main__":
    if sys.argv[1] == "get":
        get(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "raw":
        raw(*sys.argv[2:6])
    else:
        sys.exit("usage: http_probe.py get URL OUT | raw HOST PORT METHOD PATH")
