"""Helpers every rule module shares: evidence frames, timings, addresses, decoded headers.

Strategy: a rule reads one frozen ``Call`` and states facts from it.  These helpers
turn indices into frame numbers, skip retransmissions (the tracker marks them),
format hops and delays the same way in every annotation, and decode the Reason,
Warning and Retry-After headers through the knowledge base, so that two rules
never describe the same fact in two ways.

Rules:
- Nothing here raises on wire data: a missing header or an unparsable value
  yields nothing, never an exception.
- Wire text is copied into annotations verbatim but cut to ``MAX_QUOTE``
  characters; escaping control characters is the renderers' job at the sink
  (``render.safe``), because the annotate layer must not import render.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Iterator

from ...dialogs.call import Call, Transaction
from ...sip.headers import parse_name_addr, uri_host
from ...sip.message import SipMessage
from ..knowledge import CodeInfo, lookup, parse_reason, parse_retry_after, parse_warning

__all__ = [
    "MAX_QUOTE",
    "ResponseFacts",
    "address_scope",
    "article",
    "contact_host",
    "credentials",
    "decoded_headers",
    "evidence",
    "fmt_delay",
    "ip_kind",
    "iter_originals",
    "kb_resolution",
    "originals",
    "plural",
    "quote",
    "request_of",
    "response_facts",
    "same_ip",
    "sentences",
    "top_via_host",
    "transaction_of",
]

MAX_QUOTE = 200
"""Longest piece of wire text quoted in an annotation: a title or table cell stays readable."""


def quote(text: str, limit: int = MAX_QUOTE) -> str:
    """Wire text cut to ``limit`` characters (visibly) and stripped of outer blanks."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def plural(n: int, word: str) -> str:
    """``1 time``, ``3 times``: counts in sentences read naturally."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# Method names read aloud: "an INVITE", "an ACK", "a BYE" (by sound, not letter).
_VOWEL_SOUND = frozenset("AEIOU")


def article(method: str) -> str:
    """``an INVITE``, ``an OPTIONS``, ``a BYE``, ``a REGISTER``: a method in a sentence."""
    return f"an {method}" if method[:1] in _VOWEL_SOUND else f"a {method}"


def evidence(*groups: Iterable[int]) -> tuple[int, ...]:
    """Frame numbers, sorted and without duplicates, from any number of groups."""
    return tuple(sorted({f for g in groups for f in g}))


def originals(call: Call, indices: Iterable[int]) -> list[int]:
    """The message indices that are not retransmissions of an earlier message."""
    return [i for i in indices if i not in call.retransmissions]


def request_of(call: Call, txn: Transaction) -> SipMessage | None:
    """The first copy of a transaction's request (None for a response-only transaction)."""
    return call.messages[txn.requests[0]] if txn.requests else None


def fmt_delay(ns: int) -> str:
    """A delay as people read it: ``450 ms``, ``2.5 s``, ``32.0 s``."""
    ms = ns / 1e6
    if abs(ms) < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


_HAS_CREDENTIALS = re.compile(rb"\n(?:proxy-)?authorization[ \t]*:", re.IGNORECASE)


def credentials(msg: SipMessage) -> str:
    """The credential header a request carries: ``Authorization``, ``Proxy-Authorization`` or ''."""
    if _HAS_CREDENTIALS.search(msg.raw) is None:
        return ""  # a byte scan spares most requests a full header parse
    if msg.headers.get("authorization") is not None:
        return "Authorization"
    if msg.headers.get("proxy-authorization") is not None:
        return "Proxy-Authorization"
    return ""


def kb_resolution(info: CodeInfo, *extra: str) -> tuple[str, ...]:
    """The knowledge-base steps for a code, then rule-specific ones, without repeats."""
    out: list[str] = []
    for step in (*extra, *info.resolution):
        if step not in out:
            out.append(step)
    return tuple(out)


def decoded_headers(msg: SipMessage) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Decode Reason, Warning and Retry-After of a message through the knowledge base.

    Returns:
        ``(details, sentences, steps)``: detail pairs for the annotation, sentences for its
        cause, and extra resolution steps (from registered Warning codes).
    """
    details: list[tuple[str, str]] = []
    sentences: list[str] = []
    steps: list[str] = []
    for value in msg.headers.get_all("reason"):
        for r in parse_reason(value):
            said = f' ("{quote(r.text, 80)}")' if r.text else ""
            label = f"{r.protocol} cause {r.cause}" if r.cause is not None else r.protocol
            details.append(("reason", f"{label}{said}: {r.explanation}"))
            sentences.append(f"Its Reason header gives {label}{said}: {r.explanation}")
    for value in msg.headers.get_all("warning"):
        for w in parse_warning(value):
            text = quote(w.text, 120)
            meaning = w.info.meaning if w.info else "an unregistered warning code"
            details.append(("warning", f'{w.code} from {quote(w.agent, 60)}: "{text}" ({meaning})'))
            sentences.append(
                f'A Warning header from {quote(w.agent, 60)} says {w.code} "{text}": {meaning}'
            )
            if w.info:
                steps.extend(w.info.resolution)
    ra = msg.headers.get("retry-after")
    if ra is not None:
        secs = parse_retry_after(ra)
        if secs is not None:
            details.append(("retry-after", f"{secs} s"))
            sentences.append(
                f"Its Retry-After asks clients to wait {secs} s before sending new requests "
                "there, and to fail over meanwhile (RFC 3261 section 21.5.4)."
            )
    # labels become JSON object keys: a second Warning must not overwrite the first
    seen: dict[str, int] = {}
    for n, (label, value) in enumerate(details):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            details[n] = (f"{label} {seen[label]}", value)
    return details, sentences, steps


def top_via_host(msg: SipMessage) -> str:
    """Host of the top Via's sent-by (``10.0.0.1`` of ``SIP/2.0/UDP 10.0.0.1:5060;branch=``)."""
    vias = msg.headers.get_all("via")
    if not vias:
        return ""
    parts = vias[0].split(";", 1)[0].split()
    if len(parts) < 2:
        return ""
    return _host_of(parts[1])


def contact_host(msg: SipMessage) -> str:
    """Host of the first Contact URI ('' when there is none, or for ``Contact: *``)."""
    contacts = msg.headers.get_all("contact")
    if not contacts or contacts[0].strip() == "*":
        return ""
    return _host_of(uri_host(parse_name_addr(contacts[0]).uri))


def _host_of(hostport: str) -> str:
    """``10.0.0.1:5060`` -> ``10.0.0.1``; ``[fe80::1]:5060`` -> ``fe80::1``."""
    hostport = hostport.strip()
    if hostport.startswith("["):
        return hostport[1:].split("]", 1)[0]
    if hostport.count(":") > 1:  # a bare IPv6 address, no port
        return hostport
    return hostport.split(":", 1)[0]


@functools.lru_cache(maxsize=4096)
def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse once per distinct text: a capture repeats the same few addresses endlessly."""
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


_SHARED = ipaddress.ip_network("100.64.0.0/10")
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_ULA = ipaddress.ip_network("fc00::/7")


@functools.lru_cache(maxsize=4096)
def address_scope(text: str) -> str:
    """Why an address cannot be reached from the Internet, or '' when it can (or is no IP).

    Returns ``"private (RFC 1918)"``, ``"shared (RFC 6598 carrier-grade NAT)"``,
    ``"link-local"`` or ``"unique-local (RFC 4193)"``.  Loopback, 0.0.0.0 and hostnames
    give ''.
    """
    ip = _ip(text)
    if ip is None:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        if any(ip in n for n in _RFC1918):
            return "private (RFC 1918)"
        if ip in _SHARED:
            return "shared (RFC 6598 carrier-grade NAT)"
    elif ip in _ULA:
        return "unique-local (RFC 4193)"
    if ip.is_link_local:
        return "link-local"
    return ""


def ip_kind(text: str) -> str:
    """``"unicast"``, ``"unspecified"`` (0.0.0.0, ::), ``"loopback"``, or '' for a hostname."""
    ip = _ip(text)
    if ip is None:
        return ""
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    return "unicast"


def same_ip(a: str, b: str) -> bool:
    """Do two texts name the same IP address (``fe80:0:0:0::1`` equals ``fe80::1``)?"""
    if a == b:
        return True
    if a == b:
        return True
    ia, ib = _ip(a), _ip(b)
    if ia is None or ib is None:
        return a.strip().lower() == b.strip().lower()
    return ia == ib


def iter_originals(call: Call) -> Iterator[tuple[int, SipMessage]]:
    """Every message that is not a retransmission, with its index.

    Most calls have no retransmission: they get ``enumerate`` itself, a C
    iterator, instead of a generator (about a dozen rules ask, on every call).
    """
    if not call.retransmissions:
        return enumerate(call.messages)
    return _skip_retransmissions(call)


def _skip_retransmissions(call: Call) -> Iterator[tuple[int, SipMessage]]:
    retrans = call.retransmissions
    for i, m in enumerate(call.messages):
        if i not in retrans:
            yield i, m


def _lower_first(text: str) -> str:
    """``Not registered`` -> ``not registered``; ``SIP ALG`` and ``Q.850 ...`` stay as they are."""
    word = text.split(" ", 1)[0]
    if word[:1].isupper() and (len(word) == 1 or word[1:].islower()):
        return text[0].lower() + text[1:]
    return text


def sentences(*parts: str) -> str:
    """Join sentences with one space, adding the full stop a part lacks; empty parts vanish."""
    out = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        if p[-1] not in ".!?:":
            p += "."
        out.append(p)
    return " ".join(out)


def transaction_of(call: Call, index: int) -> Transaction | None:
    """The transaction a message index belongs to (request, response or ACK of a non-2xx)."""
    for t in call.transactions:
        if index in t.responses or index in t.requests or index == t.ack:
            return t
    return None


class ResponseFacts:
    """What the knowledge base and the call say about one final response, ready to quote.

    Built by :func:`response_facts`; every rule that explains an error response
    starts from these sentences so the same response reads the same everywhere.
    """

    __slots__ = (
        "details",
        "frames",
        "info",
        "label",
        "method",
        "msg",
        "opening",
        "request",
        "sentences",
        "steps",
    )

    def __init__(self, call: Call, index: int) -> None:
        msg = call.messages[index]
        txn = transaction_of(call, index)
        req = request_of(call, txn) if txn is not None else None
        info = lookup(msg.status)
        self.msg = msg
        self.request = req
        self.info = info
        self.method = msg.cseq_method or (req.method if req else "request")
        self.label = f"{msg.status} {info.reason}"
        wire = quote(msg.reason, 80)
        said = (
            f' (its reason phrase: "{wire}")'
            if wire and wire.lower() != info.reason.lower()
            else ""
        )
        if req is not None:
            delay = fmt_delay(msg.ts_ns - req.ts_ns)
            self.opening = (
                f"{msg.src} answered the {self.method} from {req.src} (frame {req.frame}) with "
                f"{self.label}{said} in frame {msg.frame}, {delay} after the request."
            )
        else:
            self.opening = (
                f"{msg.src} sent {self.label}{said} to {article(self.method)} (frame {msg.frame})."
            )
        details, sentences, steps = decoded_headers(msg)
        self.details: list[tuple[str, str]] = [("status", self.label)]
        if said:
            self.details.append(("reason phrase", wire))
        self.details.append(("responder", str(msg.src)))
        server = msg.headers.get("server") or msg.headers.get("user-agent")
        if server:
            self.details.append(("server", quote(server, 80)))
        self.details.extend(details)
        self.sentences = [info.meaning, *sentences]
        self.steps = steps
        self.frames = evidence([req.frame] if req is not None else [], [msg.frame])

    @property
    def likely(self) -> str:
        """The knowledge base's two most likely causes as one sentence ('' when none)."""
        causes = [c.rstrip(".") for c in self.info.causes[:2]]
        if not causes:
            return ""
        return (
            "Likely causes: "
            + "; or ".join([causes[0], *(_lower_first(c) for c in causes[1:])])
            + "."
        )

    def cause(self, *extra: str) -> str:
        """Opening fact, rule-specific sentences, the decoded headers, then the likely causes."""
        return sentences(self.opening, *extra, *self.sentences, self.likely)

    def resolution(self, *extra: str) -> tuple[str, ...]:
        return kb_resolution(self.info, *extra, *self.steps)


def response_facts(call: Call, index: int) -> ResponseFacts:
    """Facts about the final response at ``index`` (see :class:`ResponseFacts`)."""
    return ResponseFacts(call, index)
