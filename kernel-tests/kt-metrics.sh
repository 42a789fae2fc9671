#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kt-metrics: Debian's Prometheus server scrapes both ends of a fleet.
# moat-controlplane (with --metrics-listen) and a Prometheus server run in
# one namespace (CLI); a host in another (SRV) runs moatd with
# metrics-listen, joined to the control plane, behind "policy drop" with
# a rule that lets the scrapes in.  The test checks:
#
#   - the metrics process: user nobody, no capabilities, seccomp,
#     no_new_privs, and only /metrics served;
#   - Prometheus sees both targets up and moat_up 1 from each;
#   - the per-rule packet counter follows pings, through Prometheus;
#   - the control plane's host, session and enrollment series;
#   - the metrics process killed: moatd starts another, scrapes go on.
#
# usage: kt-metrics.sh MOATD MOATCTL MOAT-CONTROLPLANE
set -eu
# shellcheck source=SCRIPTDIR/lib/kt.sh
. "$(dirname "$0")/lib/kt.sh"
# shellcheck source=SCRIPTDIR/lib/kt-moatd.sh
. "$(dirname "$0")/lib/kt-moatd.sh"

kt_fleet_args "$@"
kt_require_kernel ip nsenter ping jq curl openssl prometheus
kt_fleet_init ktm kt-metrics

HOST4=10.94.0.2
CP4=10.94.0.1
HOST_METRICS=$HOST4:9101
CP_METRICS=127.0.0.1:9102
PROM=127.0.0.1:9190

kt_veth_pair
kt_fleet_link

mkdir -p "$TMP/cp" "$TMP/prom"
ip netns exec "$CLI" "$CP" --state "$TMP/cp" --listen "$CP4:7443" \
	--api-listen 127.0.0.1:7444 --metrics-listen "$CP_METRICS" \
	--san "$CP4" --san 127.0.0.1 --admin-key-file "$TMP/cp/admin.key" \
	--heartbeat-interval 1 --user nobody >>"$TMP/cp.log" 2>&1 &
kt_bg $!
kt_check "control plane starts" "see $TMP/cp.log" \
	kt_wait 15 grep -q 'operators on' "$TMP/cp.log"
kt_check "control plane: says where its metrics are" "$(cat "$TMP/cp.log")" \
	grep -q "metrics on http://$CP_METRICS/metrics" "$TMP/cp.log"

FP="sha256:$(openssl x509 -in "$TMP/cp/ca.crt" -outform DER | sha256sum | cut -d' ' -f1)"
cpctl --json token create --uses 1 | (umask 077 && jq -r .token >"$TMP/token")

# policy drop: ping and the scrapes in; the channel to the control plane
# comes back as established (conntrack)
cat >"$TMP/host.rules" <<'EOF'
policy drop
allow ping icmp type echo-request
allow scrape tcp dport 9101
EOF
kt_moatd_start "$TMP/host.rules" "controlplane $CP4:7443" \
	"controlplane-ca $FP" "install-token-file $TMP/token" "user nobody" \
	"metrics-listen $HOST_METRICS"
cp_connected() {
	[ "$(mctl --json status | jq -r .controlplane.state)" = connected ]
}
kt_check "moatd joins the fleet" "$(mctl --json status | jq -c .controlplane)" \
	kt_wait 15 cp_connected

# --- the metrics process: moatd's child, unprivileged, filtered -----------------

MET=$(pgrep -P "$MOATD_PID" -f metrics-fd | head -n 1 || true)
kt_check "a metrics process" "none found" test -n "$MET"
status_of() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$MET/status"; }
kt_eq "metrics process runs as nobody" "$(id -u nobody)" "$(status_of Uid)"
kt_eq "metrics process: no capabilities" 0000000000000000 "$(status_of CapEff)"
kt_eq "metrics process: seccomp filter" 2 "$(status_of Seccomp)"
kt_eq "metrics process: no_new_privs" 1 "$(status_of NoNewPrivs)"
# past stdin, stdout and stderr (moatd's log): sockets and the ring only
other_fds() {
	local fd t
	for fd in "/proc/$MET/fd/"*; do
		[ "${fd##*/}" -gt 2 ] || continue
		t=$(readlink "$fd")
		case $t in
		socket:* | anon_inode:*) ;;
		*) echo "${fd##*/} $t" ;;
		esac
	done
}
kt_eq "metrics process: holds no file but its sockets and ring" "" "$(other_fds)"

scrape() { # URL: what a plain HTTP client gets, from CLI
	ip netns exec "$CLI" curl -s --max-time 5 "$@"
}
scrapes() {
	scrape "http://$HOST_METRICS/metrics" | grep -qx 'moat_up 1'
}
kt_check "moatd: /metrics answers with moat_up 1" "$(scrape "http://$HOST_METRICS/metrics" | head -n 5)" \
	scrapes
kt_eq "moatd: the exposition format's content type" "text/plain; version=0.0.4; charset=utf-8" \
	"$(scrape -o /dev/null -w '%{content_type}' "http://$HOST_METRICS/metrics")"
kt_eq "moatd: another path is 404" 404 \
	"$(scrape -o /dev/null -w '%{http_code}' "http://$HOST_METRICS/")"
kt_eq "moatd: POST is 405" 405 \
	"$(scrape -o /dev/null -w '%{http_code}' -X POST "http://$HOST_METRICS/metrics")"
# 8 scrapes at once, twice in a row: they share renders, and the second
# round waits out moatd's pace (one render each 500 ms): all answered
many() {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		scrape "http://$HOST_METRICS/metrics" >"$TMP/scrape.$i" &
	done
	wait
	grep -lx 'moat_up 1' "$TMP"/scrape.* | wc -l
}
kt_eq "moatd: 8 scrapes at once, all answered" 8 "$(many)"
kt_eq "moatd: 8 more at once, all answered" 8 "$(many)"
# each render reads the interfaces, where libxdp 1.3 leaked a descriptor
# every time (docs/architecture.md, "Attachment")
FDS0=$(kt_moatd_fds)
RENDERED=0
for _ in 1 2 3 4 5 6; do
	sleep 0.6 # past moatd's pace: a render each
	scrapes && RENDERED=$((RENDERED + 1))
done
FDS1=$(kt_moatd_fds)
kt_check "moatd: 6 renders leave its descriptors as they were" \
	"$FDS0 before, $FDS1 after, $RENDERED answered" \
	test "$RENDERED" = 6 -a "$FDS1" -le $((FDS0 + 2))
# 16 scrapers that never finish their request hold every slot: the 17th
# is closed at once; 10 s later they are timed out, and scrapes go on
for i in $(seq 16); do
	ip netns exec "$CLI" bash -c "exec 3<>/dev/tcp/${HOST_METRICS%:*}/${HOST_METRICS#*:}; printf 'GET /metr' >&3; sleep 20" 2>/dev/null &
	kt_bg $!
done
sleep 1
kt_eq "moatd: a 17th scraper is closed at once" "" \
	"$(scrape "http://$HOST_METRICS/metrics" | head -n 1)"
kt_check "moatd: the slow ones are timed out, scrapes go on" "no answer after 15 s" \
	kt_wait 15 scrapes
kt_eq "moatd: the metrics process survived all that" "$MET" \
	"$(pgrep -P "$MOATD_PID" -f metrics-fd | head -n 1)"

kt_eq "control plane: the exposition format's content type" "text/plain; version=0.0.4; charset=utf-8" \
	"$(scrape -o /dev/null -w '%{content_type}' "http://$CP_METRICS/metrics")"
kt_eq "control plane: another path is 404" 404 \
	"$(scrape -o /dev/null -w '%{http_code}' "http://$CP_METRICS/v1/hosts")"
kt_eq "control plane: DELETE is 405" 405 \
	"$(scrape -o /dev/null -w '%{http_code}' -X DELETE "http://$CP_METRICS/metrics")"

# --- Prometheus ------------------------------------------------------------------

cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: moatd
    static_configs:
      - targets: ['$HOST_METRICS']
  - job_name: moat-controlplane
    static_configs:
      - targets: ['$CP_METRICS']
EOF
ip netns exec "$CLI" prometheus --config.file="$TMP/prometheus.yml" \
	--storage.tsdb.path="$TMP/prom" --web.listen-address="$PROM" \
	>>"$TMP/prometheus.log" 2>&1 &
kt_bg $!

api() { # PATH: Prometheus's HTTP API, from CLI
	ip netns exec "$CLI" curl -s --max-time 5 "http://$PROM/api/v1/$1"
}
query() { # EXPR: the value of a one-series instant query
	api "query?query=$(jq -rn --arg q "$1" '$q | @uri')" | jq -r '.data.result[0].value[1] // empty'
}
targets_up() { # both targets scraped, and up
	[ "$(api targets | jq '[.data.activeTargets[] | select(.health == "up")] | length')" = 2 ]
}
kt_check "Prometheus: both targets up" "$(api targets | jq -c '[.data.activeTargets[] | {job: .labels.job, health, lastError}]' 2>&1; tail -n 3 "$TMP/prometheus.log")" \
	kt_wait 30 targets_up
kt_eq "Prometheus: moat_up of moatd" 1 "$(query 'moat_up{job="moatd"}')"
kt_eq "Prometheus: moat_up of the control plane" 1 "$(query 'moat_up{job="moat-controlplane"}')"
kt_eq "Prometheus: moatd's generation" 1 "$(query 'moat_generation')"
kt_eq "Prometheus: moatd's rules" 2 "$(query 'moat_rules')"
kt_eq "Prometheus: moatd connected to the control plane" 1 "$(query 'moat_controlplane_connected')"
kt_check "Prometheus: conntrack's size" "$(query moat_conntrack_max)" \
	test "$(query moat_conntrack_max)" -gt 0

# ping's counter: what it was, then 3 echo requests of one ping (one
# identifier, so one flow): the first is the rule's, the next two pass as
# the flow's, in the established row (conntrack decides before the rules)
ping_q='moat_rule_packets_total{rule="ping",action="allow"}'
est_q='moat_builtin_packets_total{row="established",action="pass"}'
before=$(query "$ping_q")
est_before=$(query "$est_q")
kt_check "Prometheus: ping's counter is there" "'$before'" test -n "$before"
kt_check "Prometheus: the established row is there" "'$est_before'" test -n "$est_before"
ip netns exec "$CLI" ping -c 3 -i 0.2 -W 1 "$HOST4" >/dev/null
pings_counted() {
	[ "$(query "$ping_q")" -ge $((before + 1)) ] &&
		[ "$(query "$est_q")" -ge $((est_before + 2)) ]
}
kt_check "Prometheus: the pings counted, by the rule and as established" \
	"ping $before then $(query "$ping_q"), established $est_before then $(query "$est_q")" \
	kt_wait 10 pings_counted
kt_check "Prometheus: the scrapes are counted too" "$(query 'moat_rule_packets_total{rule="scrape"}')" \
	test "$(query 'moat_rule_packets_total{rule="scrape",action="allow"}')" -gt 0
kt_check "Prometheus: the policy's row" "$(query 'moat_builtin_packets_total{row="policy"}')" \
	test -n "$(query 'moat_builtin_packets_total{row="policy",action="drop"}')"

# the control plane: one host, healthy, one session, one enrollment
kt_eq "Prometheus: one healthy host" 1 "$(query 'moat_hosts{workspace="default",state="healthy"}')"
kt_eq "Prometheus: one session" 1 "$(query 'moat_sessions')"
# no ruleset is declared for it: the host keeps its own
kt_eq "Prometheus: the host's configuration is unmanaged" 1 \
	"$(query 'moat_config_hosts{workspace="default",status="unmanaged"}')"
kt_eq "Prometheus: one enrollment" 1 "$(query 'moat_enrollments_total')"
kt_eq "Prometheus: no refusal" 0 "$(query 'sum(moat_enroll_refusals_total)')"
kt_check "Prometheus: heartbeats counted" "$(query moat_heartbeats_total)" \
	test "$(query moat_heartbeats_total)" -gt 0
kt_check "Prometheus: the token's API request counted" "$(query 'moat_api_requests_total')" \
	test "$(query 'moat_api_requests_total{code="201"}')" -ge 1

# --- the metrics process dies ---------------------------------------------------

kill -KILL "$MET"
kt_check "metrics process killed: moatd says so" "$(tail -n 3 "$TMP/moatd.log")" \
	kt_wait 5 grep -q "metrics process (pid $MET) was killed by signal 9" "$TMP/moatd.log"
new_met() {
	NEW=$(pgrep -P "$MOATD_PID" -f metrics-fd | head -n 1)
	[ -n "$NEW" ] && [ "$NEW" != "$MET" ]
}
kt_check "a new metrics process" "old $MET" kt_wait 5 new_met
kt_check "scrapes go on" "no answer" kt_wait 5 scrapes
up_again() {
	[ "$(api 'query?query=up%7Bjob%3D%22moatd%22%7D' | jq -r '.data.result[0].value[1]')" = 1 ]
}
kt_check "Prometheus: moatd up again" "$(api targets | jq -c '.data.activeTargets[] | {health, lastError}')" \
	kt_wait 10 up_again

kt_done
