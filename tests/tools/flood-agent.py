#!/usr/bin/env python3
"""TEST ONLY: a hostile agent for the bench. It answers every request on the agent API's port
with HTTP 200 and a Keylime-shaped JSON body of about SIZE MiB (an "IMA list" of filler), as
fast as TLS on loopback allows, with the certificate and key a real agent registered, so that
the verifier's pinned TLS accepts it. What it measures: whether one agent that floods its
answers can slow the verifier's polls of the others.
Usage: flood-agent.py PORT CERT KEY SIZE_MIB"""
import http.server
import socketserver
import ssl
import sys

PORT, CERT, KEY, SIZE_MIB = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
HEAD = b'{"code":200,"status":"Success","results":{"quote":"r","hash_alg":"sha256","pubkey":"p",' \
       b'"ima_measurement_list_entry":0,"ima_measurement_list":"'
TAIL = b'"}}'
CHUNK = b"10 " + b"0" * 1021
FILLER = SIZE_MIB * 1024  # chunks of 1 KiB


class Flood(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(HEAD) + FILLER * len(CHUNK) + len(TAIL)))
        self.end_headers()
        try:
            self.wfile.write(HEAD)
            block = CHUNK * 256
            for _ in range(FILLER // 256):
                self.wfile.write(block)
            self.wfile.write(TAIL)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the verifier stopped reading at its bound: what it should do

    do_POST = do_GET

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT, KEY)
server = Server(("127.0.0.1", PORT), Flood)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
