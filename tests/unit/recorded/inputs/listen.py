import socket, time
socks = []
def tcp(fam, addr, port, v6only=None, dev=None):
    s = socket.socket(fam, socket.SOCK_STREAM)
    if v6only is not None: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    if dev: s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
    s.bind(socket.getaddrinfo(addr, port, fam)[0][4]); s.listen(); socks.append(s)
def udp(fam, addr, port, v6only=None, dev=None):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if v6only is not None: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    if dev: s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
    s.bind(socket.getaddrinfo(addr, port, fam)[0][4]); socks.append(s)
I4, I6 = socket.AF_INET, socket.AF_INET6
tcp(I4, "0.0.0.0", 22); tcp(I6, "::", 22, v6only=1)
tcp(I4, "127.0.0.1", 631); tcp(I6, "::1", 25, v6only=1)
tcp(I6, "::", 80, v6only=0)
tcp(I4, "10.20.0.2", 8080)
tcp(I6, "fe80::ff:fe00:a02%veth0", 9090, v6only=1)
udp(I4, "127.0.0.53", 53, dev="lo"); tcp(I4, "127.0.0.53", 53, dev="lo")
udp(I6, "::", 5353, v6only=0)
udp(I4, "0.0.0.0", 68, dev="veth0")
udp(I6, "fd20::2", 123, v6only=1)
open("/tmp/probe-rec.pHYz/ready", "w").close()
time.sleep(30)
