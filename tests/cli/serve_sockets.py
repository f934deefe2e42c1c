"""Socket helpers for the serve tests (python3, standard library only).

  serve_sockets.py streams PORT N        opens N event streams, prints the
                                         status line of each, keeps them open
                                         until stdin closes
  serve_sockets.py slow PORT SECONDS     sends one header byte a second and
                                         prints how many seconds until the
                                         server cut the connection
  serve_sockets.py idle PORT N SECONDS   holds N idle connections for SECONDS,
                                         then prints how many the server closed
"""
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def streams(port, n):
    socks = []
    for _ in range(n):
        s = connect(port)
        s.sendall(b"GET /__publish/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
        line = b""
        while not line.endswith(b"\r\n"):
            chunk = s.recv(1)
            if not chunk:
                break
            line += chunk
        print(line.decode().strip(), flush=True)
        socks.append(s)
    sys.stdin.read()  # hold them until told
    for s in socks:
        s.close()


def slow(port, limit):
    s = connect(port)
    start = time.monotonic()
    header = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % port
    s.sendall(header)
    s.settimeout(1.0)
    while time.monotonic() - start < limit:
        try:
            if s.recv(1024) == b"":
                break
        except socket.timeout:
            pass
        except OSError:
            break
        try:
            s.sendall(b"a")
        except OSError:
            break
    print("%.0f" % (time.monotonic() - start), flush=True)


def idle(port, n, seconds):
    socks = [connect(port) for _ in range(n)]
    time.sleep(seconds)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print(closed, flush=True)


if __name__ == "__main__":
    what, port = sys.argv[1], int(sys.argv[2])
    if what == "streams":
        streams(port, int(sys.argv[3]))
    elif what == "slow":
        slow(port, float(sys.argv[3]))
    elif what == "idle":
        idle(port, int(sys.argv[3]), float(sys.argv[4]))
