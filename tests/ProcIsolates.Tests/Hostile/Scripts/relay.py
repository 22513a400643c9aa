# A man in the middle of the same user: waits for a host's next socket file, renames it, listens in its place and
# relays every connection to the renamed socket, recording what the worker sends. Usage: relay.py <dir> <prefix> <log>
import os, socket, sys, threading, time

directory, prefix, log = sys.argv[1], sys.argv[2], sys.argv[3]
before = set(os.listdir(directory))
print("watching", flush=True)
while True:
    fresh = [f for f in os.listdir(directory) if f.startswith(prefix) and f.endswith(".sock") and f not in before]
    if fresh:
        break
    time.sleep(0.0005)

path = os.path.join(directory, fresh[0])
moved = path + ".real"
os.rename(path, moved)
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen(8)
print("relaying " + path, flush=True)

def pump(source, target, record):
    while True:
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        if not data:
            try:
                target.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        if record:
            with open(log, "ab") as f:
                f.write(data)
        try:
            target.sendall(data)
        except OSError:
            return

while True:
    worker, _ = server.accept()
    print("accepted", flush=True)
    host = socket.socket(socket.AF_UNIX)
    host.connect(moved)
    threading.Thread(target=pump, args=(worker, host, True), daemon=True).start()
    threading.Thread(target=pump, args=(host, worker, False), daemon=True).start()
