#!/bin/bash
# metrics_listen: the counters over HTTP at /metrics in the Prometheus text format.
# promtool (Debian's prometheus package) accepts the exposition; the counters agree with
# `mailscanctl stats`; other paths and methods are refused; a slow client does not stop
# the endpoint; a real Prometheus server in the client namespace scrapes the daemon and
# its query API returns mailscan's series with the values mail made.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
start_daemon "queues = 0" "metrics_listen = $G4C:9311"
URL=http://$G4C:9311/metrics
for k in clean eicar; do make_mail $k; done
expect_eq "clean mail" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
case "$(smtp_send $S4 25 eicar smtplib)" in 554*) ok "infected mail refused" ;; *) fail "eicar passed" ;; esac

in_c curl -sf "$URL" >"$WORK/metrics.txt" || fail "GET /metrics"
out=$(promtool check metrics <"$WORK/metrics.txt" 2>&1) || fail "promtool: $out"
[ -z "$out" ] || fail "promtool lint: $out"
ok "promtool check metrics: clean"
grep -q '^# TYPE mailscan_messages_total counter$' "$WORK/metrics.txt" || fail "messages TYPE"
expect_eq "smtp infected (labels)" \
	"$(sed -n 's/^mailscan_messages_total{protocol="smtp",result="infected"} //p' "$WORK/metrics.txt")" 1
expect_eq "smtp clean (labels)" \
	"$(sed -n 's/^mailscan_messages_total{protocol="smtp",result="clean"} //p' "$WORK/metrics.txt")" 1
grep -q '^mailscan_packets_total{direction="to_server"} [1-9]' "$WORK/metrics.txt" || fail "direction label"
grep -q '^# TYPE mailscan_scan_duration_seconds histogram$' "$WORK/metrics.txt" || fail "histogram TYPE"
expect_eq "histogram +Inf = scans" \
	"$(sed -n 's/^mailscan_scan_duration_seconds_bucket{le="+Inf"} //p' "$WORK/metrics.txt")" "$(stat scans)"
expect_eq "histogram count = scans" \
	"$(sed -n 's/^mailscan_scan_duration_seconds_count //p' "$WORK/metrics.txt")" "$(stat scans)"
expect_eq "flows_total agrees with stats" \
	"$(sed -n 's/^mailscan_flows_total //p' "$WORK/metrics.txt")" "$(stat flows_total)"
grep -q '^mailscan_hold_time_seconds_total [0-9.]*$' "$WORK/metrics.txt" || fail "seconds unit"

expect_eq "HEAD: the length a GET gets, no body" \
	"$(in_c curl -sfI "$URL" | tr -d '\r' | sed -n 's/^Content-Length: //p'):$(in_c curl -sf -X HEAD -m 5 "$URL" 2>/dev/null | wc -c)" \
	"$(wc -c <"$WORK/metrics.txt" | tr -d ' ' ):0"
expect_eq "other path" "$(in_c curl -s -o /dev/null -w '%{http_code}' "http://$G4C:9311/")" 404
expect_eq "POST" "$(in_c curl -s -o /dev/null -w '%{http_code}' -d x "$URL")" 405
# a client that connects and says nothing (for 300 s) does not hold the endpoint: the
# next scrape is answered once the silent one's request timeout is over
bg in_c "$PY" -c "import socket,time; s=socket.create_connection(('$G4C',9311)); time.sleep(300)"
await "the silent client connected" sh -c "ip netns exec $NS_G ss -Htn state established '( sport = :9311 )' | grep ."
in_c curl -sf -m "$DEADLINE" -o /dev/null "$URL" || fail "endpoint stuck behind a silent client"
ok "a silent client delays the next scrape by at most the request timeout"

# a real Prometheus scrapes it
mkdir -p "$WORK/prom"
cat >"$WORK/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: mailscan
    static_configs:
      - targets: ['$G4C:9311']
YML
chown -R nobody:nogroup "$WORK/prom"
bg in_c setpriv --reuid=nobody --regid=nogroup --clear-groups prometheus \
	--config.file="$WORK/prom/prometheus.yml" --storage.tsdb.path="$WORK/prom/data" \
	--web.listen-address=$C4:9090 --log.level=warn
q() { in_c curl -sf "http://$C4:9090/api/v1/query" --data-urlencode "query=$1"; }
wait_for sh -c "ip netns exec $NS_C curl -sf 'http://$C4:9090/api/v1/query?query=mailscan_messages_total' | grep -q '\"result\":\[{'" ||
	fail "prometheus never scraped mailscan: $(q up)"
res=$(q 'mailscan_messages_total{protocol="smtp",result="infected"}')
echo "$res" | grep -q '"value":\[[0-9.]*,"1"\]' || fail "prometheus value: $res"
res=$(q 'up{job="mailscan"}')
echo "$res" | grep -q '"value":\[[0-9.]*,"1"\]' || fail "target not up: $res"
ok "prometheus scraped mailscan (messages_total{smtp,infected} = 1, up = 1)"
# the README's example alerts are valid rules over these series
sed -n '/^  groups:$/,/^  ```$/p' "$TOP/README.md" | sed '$d; s/^  //' >"$WORK/rules.yml"
out=$(promtool check rules "$WORK/rules.yml" 2>&1) || fail "README alerts: $out"
for m in $(grep -o 'mailscan_[a-z_]*' "$WORK/rules.yml" | sort -u); do
	grep -q "^$m " "$WORK/metrics.txt" || fail "README alert names $m, not served"
done
ok "README alerts: promtool accepts them and every series they use is served"
