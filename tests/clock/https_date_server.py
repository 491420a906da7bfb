"""A local HTTPS server for the clock tests: answers every HEAD or GET with 204 and a Date
header (this machine's clock, plus --offset SECONDS for a lying server), over TLS with a
certificate for 127.0.0.1 signed by the test CA beside this file (test-ca.pem; never trusted
outside tests). Prints its port on stdout, then serves until killed."""
import argparse
import email.utils
import http.server
import os
import ssl
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--offset", type=float, default=0.0)
args = parser.parse_args()

HERE = os.path.dirname(os.path.abspath(__file__))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the timed request reuses the connection

    def do_HEAD(self):
        self.send_response(204)  # adds Server and Date
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate((timestamp or time.time()) + args.offset, usegmt=True)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(HERE, "server.pem"), os.path.join(HERE, "server.key"))
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
sys.stdout.close()
os.close(1)  # EOF for a reader that reads to the end (sys.stdout does not own fd 1)
server.serve_forever()
