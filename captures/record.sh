#!/usr/bin/env bash
# record.sh - re-make the sipsniff sample captures with real SIP stacks.
#
#   sudo bash captures/record.sh            # every capture (about two minutes)
#   sudo bash captures/record.sh call_ok demo   # only these (names without .pcap)
#
# Each capture is SIPp (Debian package sip-tester) playing a UAS and a UAC from
# captures/scenarios/*.xml, recorded with `tcpdump -i lo`. Everything runs inside a
# private network namespace (unshare --net) whose only interface is its own
# loopback: no packet can leave the machine, and nothing else on the host's
# loopback (another test suite on port 5060, say) ends up in the files. Every
# address that traffic is sent to is 127.0.0.x; the private 192.168.1.20 that
# call_nat.pcap mentions is message text only, and the script checks afterwards
# that every packet in every file went between 127.0.0.0/8 addresses.
# The files are overwritten; hostile.pcap is written by make_hostile.py (crafted
# bytes, no SIP stack can send them) which this script runs at the end.
#
# Each capture's SIP messages are checked with tshark against EXPECT below and the
# capture is made again (up to 3 tries) if they differ. SIPSNIFF_RECORD_KEEP=1 keeps
# SIPp's and tcpdump's logs. See captures/README.md for what each file holds.
#
# Needs: root (tcpdump, unshare), sipp, tcpdump, ss (iproute2), python3; tshark is
# optional (without it there is no check and no summary).
#   DEBIAN_FRONTEND=noninteractive apt-get install -y sip-tester tcpdump tshark
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCN="$HERE/scenarios"
ALL=(call_ok call_busy register_auth call_503 call_cancel call_tcp
     call_no_response call_ack_missing call_codec_mismatch auth_rejected
     register_interval call_declined call_loop call_nat server_unavailable demo)

die() {
    echo "record.sh: $*" >&2
    [[ -n ${UAS_PID:-} ]] && kill "$UAS_PID" 2>/dev/null
    [[ -n ${TCPDUMP_PID:-} ]] && kill -INT "$TCPDUMP_PID" 2>/dev/null
    wait 2>/dev/null
    exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (tcpdump and unshare need it): sudo bash $0"
for tool in sipp tcpdump; do
    command -v "$tool" >/dev/null || die "$tool not found: apt-get install -y sip-tester tcpdump tshark"
done

# --- run in a private network namespace (only its own lo) ---------------------------
if [[ -z "${SIPSNIFF_RECORD_NETNS:-}" ]]; then
    if unshare --net true 2>/dev/null; then
        export SIPSNIFF_RECORD_NETNS=private
        exec unshare --net bash "$HERE/record.sh" "$@"
    fi
    echo "record.sh: warning: cannot make a network namespace; recording on the host's loopback" >&2
    export SIPSNIFF_RECORD_NETNS=host
fi
if [[ $SIPSNIFF_RECORD_NETNS == private ]]; then
    ip link set lo up
fi

WANT=("$@")
[[ ${#WANT[@]} -gt 0 ]] || WANT=("${ALL[@]}")
for name in "${WANT[@]}"; do
    [[ " ${ALL[*]} " == *" $name "* ]] || die "unknown capture '$name' (known: ${ALL[*]})"
done

WORK=$(mktemp -d /tmp/sipsniff-record.XXXXXX)
cd "$WORK"
TCPDUMP_PID=""
UAS_PID=""
cleanup() {
    [[ -n $UAS_PID ]] && kill "$UAS_PID" 2>/dev/null || true
    [[ -n $TCPDUMP_PID ]] && kill -INT "$TCPDUMP_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    if [[ -n ${SIPSNIFF_RECORD_KEEP:-} ]]; then echo "record.sh: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Options every SIPp gets: no keyboard, no screen, unexpected messages logged.
SIPP_COMMON=(-nostdin -trace_err)
RTP_BASE=0          # -key rtp_base: SDP ports [rtp_base][call#]0 (UAC) / [rtp_base][call#]8 (UAS)
STEP=0

capture_start() {   # capture_start NAME [BPF filter]
    local file="$HERE/$1.pcap" filter=${2:-"port 5060 or port 5061"}
    rm -f "$file"
    echo "== $1.pcap"
    # SDP ports depend only on the capture (its place in ALL) and the pair within it,
    # so that re-making one capture alone gives the same bytes as re-making them all
    local i
    for i in "${!ALL[@]}"; do [[ ${ALL[$i]} == "$1" ]] && RTP_BASE=$((400 + 10 * i)); done
    # --immediate-mode: hand every packet over at once (else the last second of
    # packets may still sit in the kernel's buffer when tcpdump is stopped)
    TCPDUMP_LOG="$WORK/tcpdump-$1.log"
    tcpdump -i lo -n -U --immediate-mode -s 0 -w "$file" "$filter" 2>"$TCPDUMP_LOG" &
    TCPDUMP_PID=$!
    for _ in $(seq 50); do      # wait until it is really listening
        grep -q "listening on" "$TCPDUMP_LOG" 2>/dev/null && return 0
        sleep 0.1
    done
    die "tcpdump did not start: $(cat "$TCPDUMP_LOG")"
}

capture_stop() {    # let the last packets land, then stop tcpdump cleanly (SIGINT flushes)
    sleep 1
    kill -0 "$TCPDUMP_PID" 2>/dev/null || die "tcpdump died early: $(cat "$TCPDUMP_LOG")"
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
    TCPDUMP_PID=""
    # a capture that lost packets is no sample
    if ! grep -q "^0 packets dropped by kernel" "$TCPDUMP_LOG"; then
        die "tcpdump lost packets: $(cat "$TCPDUMP_LOG")"
    fi
}

uas_start() {       # uas_start RUN SCENARIO IP PORT [sipp args...]
    local run=$1 scen=$2 ip=$3 port=$4; shift 4
    STEP=$((STEP + 1)); RTP_BASE=$((RTP_BASE + 1))
    sipp -sf "$SCN/$scen.xml" -i "$ip" -p "$port" -key run "$run" -key rtp_base "$RTP_BASE" \
        -key nonce "$run-0c5d1f2a" "${SIPP_COMMON[@]}" "$@" >"$WORK/uas-$STEP.out" 2>&1 &
    UAS_PID=$!
    local proto=-u; [[ " $* " == *" -t t1 "* ]] && proto=-t
    for _ in $(seq 50); do
        ss -Hln "$proto" "src $ip:$port" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    die "UAS $scen did not start on $ip:$port: $(cat "$WORK/uas-$STEP.out")"
}

uas_stop() {        # the UAS may have finished by itself (-m N); otherwise stop it
    sleep 0.3
    if kill -0 "$UAS_PID" 2>/dev/null; then kill "$UAS_PID" 2>/dev/null || true; fi
    wait "$UAS_PID" 2>/dev/null || true
    UAS_PID=""
}

uac_run() {         # uac_run RUN SCENARIO IP PORT TARGET EXPECTED_RC [sipp args...]
    local run=$1 scen=$2 ip=$3 port=$4 target=$5 want=$6; shift 6
    local rc=0
    timeout 120 sipp -sf "$SCN/$scen.xml" -i "$ip" -p "$port" -key run "$run" \
        -key rtp_base "$RTP_BASE" -cid_str "$run-%u@$ip" "${SIPP_COMMON[@]}" "$@" "$target" \
        >"$WORK/uac-$STEP.out" 2>&1 || rc=$?
    if [[ $rc -ne $want ]]; then
        cat "$WORK"/uac-$STEP.out "$WORK"/*errors.log 2>/dev/null | tail -20 >&2
        die "UAC $scen ($run) exited $rc, expected $want"
    fi
}

pair() {            # pair RUN UAS_SCENARIO UAC_SCENARIO UAC_EXPECTED_RC [UAS args] -- [UAC args]
    # UAS on 127.0.0.1:5060, UAC on 127.0.0.1:5061
    local run=$1 uas=$2 uac=$3 want=$4; shift 4
    local uas_args=()
    while [[ $# -gt 0 && $1 != -- ]]; do uas_args+=("$1"); shift; done
    shift   # the --
    uas_start "$run" "$uas" 127.0.0.1 5060 "${uas_args[@]}"
    uac_run "$run" "$uac" 127.0.0.1 5061 127.0.0.1:5060 "$want" "$@"
    uas_stop
}

# --- the captures -------------------------------------------------------------------
rec_call_ok() {
    capture_start call_ok
    pair ok uas_call uac_call 0 -m 1 -- -m 1 -d 1500
    capture_stop
}
rec_call_busy() {
    capture_start call_busy
    pair busy uas_reject_486 uac_invite_reject 0 -m 1 -- -m 1
    capture_stop
}
rec_register_auth() {
    capture_start register_auth
    pair reg uas_register_auth uac_register_auth 0 -m 1 -- -m 1 -au alice -ap secret
    capture_stop
}
rec_call_503() {
    capture_start call_503
    pair unavail uas_reject_503 uac_invite_reject 0 -m 1 -key retry_after 30 -- -m 1
    capture_stop
}
rec_call_cancel() {
    capture_start call_cancel
    pair cancel uas_cancel uac_cancel 0 -m 1 -- -m 1
    capture_stop
}
rec_call_tcp() {
    capture_start call_tcp
    pair tcp uas_call uac_call 0 -t t1 -m 1 -- -t t1 -m 1 -d 1500
    capture_stop
}
rec_call_no_response() {
    # The UAS swallows the INVITE. The UAC retransmits it at T1 = 500 ms doubling
    # (0.5, 1.5, 3.5, 7.5, 15.5 s: 5 retransmissions, SIPp's default maximum for INVITE)
    # and gives up at 31.5 s when the next retransmission would be due: Timer B (64*T1).
    # -nd: no CANCEL/BYE on giving up (no provisional was heard, RFC 3261 9.1).
    capture_start call_no_response
    pair noresp uas_silent uac_call 1 -- -m 1 -nd -max_invite_retrans 5
    capture_stop
}
rec_call_ack_missing() {
    # The 200 OK is retransmitted at 0.5, 1.5, 3.5, 7.5 s, then every T2 = 4 s up to 27.5 s
    # (9 retransmissions); at 31.5 s the UAS gives up waiting for the ACK and sends BYE.
    # The UAC (-nd: no automatic ACK/BYE of its own) only answers that BYE.
    capture_start call_ack_missing
    pair noack uas_ack_timeout uac_no_ack 0 -m 1 -max_retrans 9 -max_non_invite_retrans 9 -- -m 1 -nd
    capture_stop
}
rec_call_codec_mismatch() {
    capture_start call_codec_mismatch
    pair codec488 uas_reject_488 uac_invite_g729 0 -m 1 -- -m 1
    pair codecpcma uas_call_pcma uac_call_pcmu 0 -m 1 -- -m 1 -d 1000
    capture_stop
}
rec_auth_rejected() {
    capture_start auth_rejected
    pair authbad uas_proxy_auth uac_invite_auth_wrong 0 -m 1 -- -m 1
    pair authnone uas_register_401 uac_register_noauth 0 -m 1 -- -m 1
    capture_stop
}
rec_register_interval() {
    capture_start register_interval
    pair interval uas_register_interval uac_register_interval 0 -m 1 -- -m 1
    capture_stop
}
rec_call_declined() {
    capture_start call_declined
    pair decline uas_reject_603 uac_invite_reject 0 -m 1 -- -m 1
    pair busyall uas_reject_600 uac_invite_reject 0 -m 1 -- -m 1
    capture_stop
}
rec_call_loop() {
    # The sender plays the last proxy of a chain, on 127.0.0.3.
    capture_start call_loop
    uas_start hops uas_reject_483 127.0.0.1 5060 -m 1
    uac_run hops uac_invite_maxfwd0 127.0.0.3 5061 127.0.0.1:5060 0 -m 1
    uas_stop
    uas_start loop uas_reject_482 127.0.0.1 5060 -m 1
    uac_run loop uac_invite_looped 127.0.0.3 5061 127.0.0.1:5060 0 -m 1
    uas_stop
    capture_stop
}
rec_call_nat() {
    capture_start call_nat
    pair nat uas_call uac_call_nat 0 -m 1 -- -m 1 -d 1000
    pair zeroaddr uas_call uac_call_zeroaddr 0 -m 1 -- -m 1 -d 1000
    capture_stop
}
rec_server_unavailable() {
    capture_start server_unavailable
    pair overload uas_reject_503 uac_invite_reject 0 -m 3 -key retry_after 120 -- -m 3 -r 1
    capture_stop
}
rec_demo() {
    # A small office: PBX/registrar 127.0.0.10:5060, phones 127.0.0.21-23, a monitor 127.0.0.30.
    local pbx=127.0.0.10
    capture_start demo
    uas_start demo-reg uas_register_auth $pbx 5060 -m 1
    uac_run demo-reg uac_register_auth 127.0.0.21 5061 $pbx:5060 0 -m 1 -au alice -ap secret
    uas_stop
    uas_start demo-ping uas_options $pbx 5060 -m 1
    uac_run demo-ping uac_options 127.0.0.30 5061 $pbx:5060 0 -m 1
    uas_stop
    # three calls, one a second, each 2.5 s long: they overlap
    uas_start demo-call uas_call $pbx 5060 -m 3
    uac_run demo-call uac_call 127.0.0.21 5061 $pbx:5060 0 -m 3 -r 1 -d 2500
    uas_stop
    uas_start demo-busy uas_reject_486 $pbx 5060 -m 1
    uac_run demo-busy uac_invite_reject 127.0.0.22 5061 $pbx:5060 0 -m 1
    uas_stop
    uas_start demo-cancel uas_cancel $pbx 5060 -m 1
    uac_run demo-cancel uac_cancel 127.0.0.23 5061 $pbx:5060 0 -m 1
    uas_stop
    uas_start demo-503 uas_reject_503 $pbx 5060 -m 1 -key retry_after 30
    uac_run demo-503 uac_invite_reject 127.0.0.22 5061 $pbx:5060 0 -m 1
    uas_stop
    capture_stop
}

# --- what each capture must hold: its SIP messages in order (method, or status code) --
declare -A EXPECT=(
    [call_ok]="INVITE 100 180 200 ACK BYE 200"
    [call_busy]="INVITE 100 486 ACK"
    [register_auth]="REGISTER 401 REGISTER 200"
    [call_503]="INVITE 100 503 ACK"
    [call_cancel]="INVITE 100 180 CANCEL 200 487 ACK"
    [call_tcp]="INVITE 100 180 200 ACK BYE 200"
    [call_no_response]="INVITE INVITE INVITE INVITE INVITE INVITE"
    [call_ack_missing]="INVITE 100 180 200 200 200 200 200 200 200 200 200 200 BYE 200"
    [call_codec_mismatch]="INVITE 100 488 ACK INVITE 100 180 200 ACK BYE 200"
    [auth_rejected]="INVITE 100 407 ACK INVITE 100 407 ACK REGISTER 401"
    [register_interval]="REGISTER 423 REGISTER 200"
    [call_declined]="INVITE 100 603 ACK INVITE 100 600 ACK"
    [call_loop]="INVITE 100 483 ACK INVITE 100 482 ACK"
    [call_nat]="INVITE 100 180 200 ACK BYE 200 INVITE 100 180 200 ACK BYE 200"
    [server_unavailable]="INVITE 100 503 ACK INVITE 100 503 ACK INVITE 100 503 ACK"
    [demo]="REGISTER 401 REGISTER 200 OPTIONS 200 INVITE 100 180 200 ACK INVITE 100 180 200 ACK INVITE 100 180 200 ACK BYE 200 BYE 200 BYE 200 INVITE 100 486 ACK INVITE 100 180 CANCEL 200 487 ACK INVITE 100 503 ACK"
)

sequence() {        # the SIP messages of a capture as "METHOD|code ..."
    tshark -n -r "$1" -Y sip -T fields -E separator=/s -E occurrence=a \
        -e sip.Method -e sip.Status-Code 2>/dev/null | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

summary() {         # one line per SIP message: frame, time, src -> dst, transport, message, CSeq
    tshark -n -r "$1" -Y sip -T fields -E separator='|' -E occurrence=f \
        -e frame.number -e frame.time_relative -e ip.src -e udp.srcport -e tcp.srcport \
        -e ip.dst -e udp.dstport -e tcp.dstport -e sip.Method -e sip.Status-Line -e sip.CSeq 2>/dev/null |
    awk -F'|' '{ proto = ($4 != "") ? "UDP" : "TCP"; sp = $4 $5; dp = $7 $8
                 msg = ($9 != "") ? $9 : substr($10, 9)
                 printf "%4d %7.3f  %s:%s -> %s:%s  %s  %s  (CSeq %s)\n", $1, $2, $3, sp, $6, dp, proto, msg, $11 }'
}

HAVE_TSHARK=1
command -v tshark >/dev/null || { HAVE_TSHARK=0; echo "record.sh: no tshark: captures are not checked" >&2; }

# Each capture runs in a subshell and is checked; a capture that failed or does not
# hold what it should (a loaded machine can disturb SIPp's timing) is made again.
for name in "${WANT[@]}"; do
    for attempt in 1 2 3; do
        set +e
        ( set -e; "rec_$name" )
        rc=$?
        set -e
        if [[ $rc -eq 0 && $HAVE_TSHARK -eq 1 ]]; then
            got=$(sequence "$HERE/$name.pcap")
            if [[ $got != "${EXPECT[$name]}" ]]; then
                echo "record.sh: $name.pcap holds: $got" >&2
                echo "record.sh:      expected: ${EXPECT[$name]}" >&2
                rc=1
            fi
        fi
        [[ $rc -eq 0 ]] && break
        [[ $attempt -lt 3 ]] || die "$name.pcap could not be recorded"
        echo "record.sh: recording $name.pcap again" >&2
    done
    chown --reference="$HERE" "$HERE/$name.pcap"     # tcpdump wrote it as its own user
done

check_fail=0
for name in "${WANT[@]}"; do
    file="$HERE/$name.pcap"
    # every packet must be between loopback addresses
    stray=$(tcpdump -n -r "$file" 'not (src net 127.0.0.0/8 and dst net 127.0.0.0/8)' 2>/dev/null | wc -l)
    if [[ $stray -ne 0 ]]; then echo "record.sh: $name.pcap has $stray non-loopback packets" >&2; check_fail=1; fi
    if [[ $HAVE_TSHARK -eq 1 ]]; then
        echo "-- $name.pcap ($(stat -c %s "$file") bytes)"
        summary "$file"
    fi
done
[[ $check_fail -eq 0 ]] || die "address check failed"

if [[ ${#WANT[@]} -eq ${#ALL[@]} ]]; then
    python3 "$HERE/make_hostile.py"
fi
echo "record.sh: done"
