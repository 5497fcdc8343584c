#!/usr/bin/env python3
"""Writes the seed corpus of FuzzDNS: DNS responses as resolvers send them (RFC 1035 wire format),
with compression pointers, and the malformed shapes the decoder must refuse."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "Corpus", "FuzzDNS")
os.makedirs(out, exist_ok=True)


def name(text):
    data = b""
    for label in text.rstrip(".").split("."):
        if label:
            data += bytes([len(label)]) + label.encode()
    return data + b"\0"


def pointer(offset):
    return struct.pack(">H", 0xC000 | offset)


def header(ident, flags, qd, an, ns=0, ar=0):
    return struct.pack(">HHHHHH", ident, flags, qd, an, ns, ar)


def rr(owner, rtype, data, rclass=1, ttl=3600):
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(data)) + data


def write(file, data):
    with open(os.path.join(out, file), "wb") as f:
        f.write(data)


A, NS, CNAME, SOA, MX, TXT, AAAA, OPT, TLSA = 1, 2, 5, 6, 15, 16, 28, 41, 52
question = name("example.com") + struct.pack(">HH", MX, 1)
# An MX answer as unbound sends it: owners point at the question, exchanges share the domain.
mx = header(0x1234, 0x8180, 1, 2, 0, 2) + question
first_exchange = len(mx) + 12 + 2
mx += rr(pointer(12), MX, struct.pack(">H", 10) + b"\x03mx1" + pointer(12))
second_exchange = len(mx) + 12 + 2
mx += rr(pointer(12), MX, struct.pack(">H", 20) + b"\x03mx2" + pointer(12))
mx += rr(pointer(first_exchange), A, bytes([192, 0, 2, 1]))
mx += rr(pointer(second_exchange), AAAA, bytes.fromhex("20010db8000000000000000000000001"))
write("00-mx", mx)
# A with EDNS0 and the AD bit.
a = header(7, 0x81A0, 1, 1, 0, 1) + name("mail.example.com") + struct.pack(">HH", A, 1)
a += rr(pointer(12), A, bytes([198, 51, 100, 7]), ttl=300)
a += rr(b"\0", OPT, b"", rclass=1232, ttl=0)
write("01-a-edns", a)
# A CNAME chain to an AAAA record.
c = header(8, 0x8180, 1, 2) + name("www.example.org") + struct.pack(">HH", AAAA, 1)
target = len(c) + 12
c += rr(pointer(12), CNAME, name("host.example.net"))
c += rr(pointer(target), AAAA, bytes.fromhex("20010db8000000000000000000000002"))
write("02-cname-aaaa", c)
# TLSA for _25._tcp.mx1.example.com (DANE-EE SPKI SHA-256).
t = header(9, 0x81A0, 1, 1) + name("_25._tcp.mx1.example.com") + struct.pack(">HH", TLSA, 1)
t += rr(pointer(12), TLSA, bytes([3, 1, 1]) + bytes(range(32)))
write("03-tlsa", t)
# NXDOMAIN with an SOA in the authority section (its data holds pointers, left undecoded).
n = header(10, 0x8183, 1, 0, 1) + name("nope.example.com") + struct.pack(">HH", MX, 1)
n += rr(pointer(17), SOA, b"\x02ns" + pointer(17) + b"\x0ahostmaster" + pointer(17) + struct.pack(">IIIII", 1, 7200, 900, 1209600, 300))
write("04-nxdomain-soa", n)
# Null MX (RFC 7505) and a TXT record.
nm = header(11, 0x8180, 1, 2) + question + rr(pointer(12), MX, struct.pack(">H", 0) + b"\0")
nm += rr(pointer(12), TXT, b"\x0bv=spf1 -all")
write("05-null-mx-txt", nm)
# Truncated (TC) response without answers: the resolver retries over TCP.
write("06-truncated-flag", header(12, 0x8380, 1, 0) + question)
# Malformed: a pointer to itself, two pointers in a cycle, a forward pointer.
write("07-pointer-self", header(13, 0x8180, 1, 0) + pointer(12) + struct.pack(">HH", A, 1))
loop = header(14, 0x8180, 1, 1) + question
loop += pointer(len(loop) + 12) + struct.pack(">HHIH", CNAME, 1, 60, 2) + pointer(len(loop))
write("08-pointer-cycle", loop)
write("09-pointer-forward", header(15, 0x8180, 1, 0) + pointer(40) + struct.pack(">HH", A, 1) + b"\0" * 30)
# Malformed: a record cut off in its data, counts larger than the message, a short header.
write("10-truncated-rdata", mx[:-3])
write("11-counts-too-big", header(16, 0x8180, 1, 50, 50, 50) + question)
write("12-short-header", header(17, 0x8180, 1, 0)[:7])
# A name of 255 bytes through a chain of pointers, and one of 256.
labels = b"".join(bytes([63]) + b"a" * 63 for _ in range(3))
long_name = header(18, 0x8180, 1, 0) + labels + b"\x3d" + b"b" * 61 + b"\0" + struct.pack(">HH", A, 1)
write("13-name-255", long_name)
write("14-name-256", header(19, 0x8180, 1, 0) + labels + b"\x3e" + b"b" * 62 + b"\0" + struct.pack(">HH", A, 1))
# Label types 01 and 10 (extended and reserved) and a label that runs past the end.
write("15-label-types", header(20, 0x8180, 1, 0) + b"\x41\x00" + struct.pack(">HH", A, 1))
write("16-label-past-end", header(21, 0x8180, 1, 0) + b"\x20abc")
# A record with wrong data lengths for its type.
write("17-a-length", header(22, 0x8180, 1, 1) + question + rr(pointer(12), A, bytes([1, 2, 3])))
