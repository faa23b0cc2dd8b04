"""Media: RTP and RTCP streams, accounted per packet (``streams``), as the native core does."""

from .streams import MAX_STREAMS, MediaTable, RtcpTuple, StreamTuple, is_rtcp, rtp_payload

__all__ = ["MAX_STREAMS", "MediaTable", "RtcpTuple", "StreamTuple", "is_rtcp", "rtp_payload"]
