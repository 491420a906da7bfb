"""A minimal SNTP server for the Swift clock tests (the Swift toolchain's chroot has Python, not
chronyd): answers every request on 127.0.0.1 with this machine's clock, echoing the request's
transmit timestamp as the origin. --stratum 0 --code DENY makes it a kiss-of-death server.
Prints its port on stdout, then serves until killed."""
import argparse
import os
import signal
import socket
import struct
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--stratum", type=int, default=2)
parser.add_argument("--code", default="")
args = parser.parse_args()
# XCTest starts children with most signals blocked and some ignored (both survive exec): take
# the defaults back, so the test's terminate() stops us.
signal.pthread_sigmask(signal.SIG_SETMASK, set())
signal.signal(signal.SIGTERM, signal.SIG_DFL)

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
sys.stdout.close()
os.close(1)  # EOF for a reader that reads to the end (sys.stdout does not own fd 1)
while True:
    request, peer = sock.recvfrom(512)
    if len(request) < 48:
        continue
    now = time.time() + 2_208_988_800
    stamp = struct.pack("!II", int(now), int((now % 1) * 2**32))
    code = args.code.encode("ascii")[:4].ljust(4, b"\0")
    reply = bytes([0b00_100_100, args.stratum, 6, 0xEC]) + bytes(8) + code + stamp + request[40:48] + stamp + stamp
    sock.sendto(reply, peer)
