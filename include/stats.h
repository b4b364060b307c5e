/* Counters: each thread owns a struct stats and writes it alone; readers sum them.
 * One table names every counter, so text, JSON and Prometheus output never disagree. */
#ifndef MAILSCAN_STATS_H
#define MAILSCAN_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* X(name, kind, help); kind: C counter, G gauge */
#define STATS_TABLE(X)                                                                             \
	X(packets_to_server, C, "packets from clients to servers")                                 \
	X(packets_to_client, C, "packets from servers to clients")                                 \
	X(bytes_to_server, C, "TCP payload bytes from clients to servers")                         \
	X(bytes_to_client, C, "TCP payload bytes from servers to clients")                         \
	X(stream_bytes_to_server, C, "client bytes reassembled in order (each byte once)")         \
	X(stream_bytes_to_client, C, "server bytes reassembled in order (each byte once)")         \
	X(packets_not_tcp, C, "queued packets that were not TCP (passed)")                         \
	X(packets_truncated, C, "packets larger than the queue's copy range (dropped)")            \
	X(packets_malformed, C, "queued packets that could not be decoded (dropped)")              \
	X(packets_fragments, C, "TCP fragments (dropped: conntrack reassembles before the queue)") \
	X(tcp_bad_checksum, C, "segments with a bad TCP checksum (dropped)")                       \
	X(tcp_urg_cleared, C, "urgent pointers cleared (the receiver reads the byte inline)")      \
	X(tcp_rewritten, C, "segments rewritten to the bytes already passed (first copy wins)")    \
	X(tcp_syn_on_established, C, "SYNs on a followed connection (dropped; the flow stays)")    \
	X(tcp_rst_ignored, C, "resets off the receiver's next sequence number (flow kept)")        \
	X(tcp_out_of_window, C, "segments beyond the receiver's window (dropped)")                 \
	X(tcp_paws_dropped, C, "segments with an old timestamp (PAWS; dropped)")                   \
	X(tcp_no_ack, C, "data without ACK, or before the handshake (dropped)")                    \
	X(tcp_data_after_close, C, "data after the sender's FIN or reset (connection reset)")      \
	X(tcp_auth_dropped, C,                                                                     \
	  "segments with an MD5 or TCP-AO option the receiver drops (dropped)")                    \
	X(tcp_ttl_raised, C, "gateway: packets whose TTL or hop limit was raised to min_ttl")      \
	X(tcp_syn_data_removed, C, "client SYNs whose data was removed (sent again after)")        \
	X(tcp_window_clamped, C, "pure ACKs whose window was lowered to flow_buffer")              \
	X(verdict_accept, C, "accept verdicts")                                                    \
	X(verdict_drop, C, "drop verdicts")                                                        \
	X(verdict_sends, C, "verdict batches sent to the kernel")                                  \
	X(holds_current, G, "packets held awaiting a scan")                                        \
	X(holds_total, C, "packets held")                                                          \
	X(holds_expired, C, "holds resolved by the hold time limit")                               \
	X(hold_time_us_total, C, "time packets spent held, microseconds")                          \
	X(hold_time_us_max, G, "longest hold, microseconds")                                       \
	X(held_retransmissions_dropped, C, "retransmissions of a held range dropped")              \
	X(flows_active, G, "flows followed now")                                                   \
	X(flows_total, C, "flows started (SYN seen)")                                              \
	X(flows_midstream, C, "flows first seen mid-stream (midstream applies)")                   \
	X(midstream_passed, C, "mid-stream flows passed (midstream_grace, or midstream = pass)")   \
	X(midstream_reset, C, "mid-stream flows reset on both sides (midstream = reset)")          \
	X(flows_refused, C, "SYNs dropped at max_flows (no flow could make room)")                 \
	X(flows_idle_reset, C, "open flows reset on both sides at idle_timeout")                   \
	X(flows_evicted_reset, C, "open flows reset on both sides when evicted")                   \
	X(flows_evicted, C, "flows evicted at the flow cap")                                       \
	X(flows_evicted_busy, C,                                                                   \
	  "of those, open connections (none: an open flow is never evicted)")                      \
	X(flows_timed_out, C, "flows ended by an idle timeout")                                    \
	X(flows_closed, C, "flows ended by FIN or RST")                                            \
	X(flows_offloaded, C, "flows offloaded from the queue (conntrack mark)")                   \
	X(offload_kept, C,                                                                         \
	  "packets of an offloaded connection passed offloaded again after a SYN on it")           \
	X(reasm_out_of_order, C, "segments buffered out of order")                                 \
	X(reasm_retransmissions, C, "segments carrying already seen bytes")                        \
	X(reasm_overflows, C, "segments dropped at a buffer cap (sent again)")                     \
	X(reasm_unverified, C, "segments too far back to be retransmissions (passed)")             \
	X(ooo_dropped, C, "out-of-order segments past the per-flow bound (dropped, sent again)")   \
	X(reasm_buffered_bytes, G, "bytes buffered for reassembly")                                \
	X(message_bytes_kept, G, "message bytes kept for scanning (message_memory caps them)")     \
	X(injected_packets, C, "packets injected (RST, replies)")                                  \
	X(inject_errors, C, "injections that failed")                                              \
	X(enobufs, C, "netlink receive buffer overruns (ENOBUFS)")                                 \
	X(queue_kernel_dropped, C, "packets the kernel dropped: queue full")                       \
	X(queue_user_dropped, C, "packets the kernel dropped: netlink buffer full")                \
	X(queue_dropped, C, "packets dropped by the kernel with queue_full = drop (sent again)")   \
	X(scans, C, "messages scanned")                                                            \
	X(scans_clean, C, "scans: clean")                                                          \
	X(scans_infected, C, "scans: infected")                                                    \
	X(scans_limits, C, "scans that hit a ClamAV limit (on_limit applies)")                     \
	X(scans_errors, C, "scans that failed (on_error applies)")                                 \
	X(scans_timeouts, C, "scans over scan_timeout (on_error applies)")                         \
	X(scans_crashed, C, "scans whose scanner process died (on_crash applies)")                 \
	X(scans_killed, C, "scans whose scanner process was killed past scan_timeout (on_crash)")  \
	X(scans_oversize, C, "scans refused by a remote scanner's size limit (oversize applies)")  \
	X(scans_expired, C, "scans not run: their hold expired while they waited (on_error)")      \
	X(scans_failed_over, C, "scans a remote scanner did not answer, sent to another")          \
	X(scans_retried, C, "scans tried again in a new process after their scanner died")         \
	X(scans_tmp_errors, C, "scans failed: the scanner's temporary space (on_error applies)")   \
	X(scanner_recycled, C, "scanner processes replaced after scanner_max_scans or a failure")  \
	X(scanner_processes, G, "scanner processes serving now")                                   \
	X(scanner_forks, C, "scanner processes forked from a scan master")                         \
	X(scan_masters_started, C, "scan masters started (start, reload, restart)")                \
	X(scan_bytes, C, "message bytes scanned")                                                  \
	X(scan_time_us_total, C, "time spent scanning, microseconds")                              \
	X(scan_time_us_max, G, "longest scan, microseconds")                                       \
	X(scan_time_le_10ms, C, "scans that took at most 10 ms")                                   \
	X(scan_time_le_100ms, C, "scans that took at most 100 ms")                                 \
	X(scan_time_le_1s, C, "scans that took at most 1 s")                                       \
	X(scan_time_le_10s, C, "scans that took at most 10 s")                                     \
	X(scan_queue_current, G, "messages waiting for a scan thread")                             \
	X(scan_wait_us_total, C, "time messages waited for a scan thread, microseconds")           \
	X(signatures, G, "signatures in the running engine")                                       \
	X(test_signatures, G, "1 when the engine runs mailscan's test signatures")                 \
	X(engine_age_s, G, "seconds since the running engine was loaded")                          \
	X(reloads_ok, C, "signature reloads that succeeded")                                       \
	X(reloads_failed, C, "signature reloads that failed (the old engine kept running)")        \
	X(quarantined, C, "messages written to the quarantine")                                    \
	X(quarantine_removed, C, "quarantined files removed to stay under quarantine_max")         \
	X(quarantine_errors, C, "messages that could not be quarantined")                          \
	X(smtp_sessions, C, "SMTP sessions followed")                                              \
	X(smtp_transactions, C, "SMTP transactions (MAIL accepted)")                               \
	X(smtp_messages_clean, C, "SMTP messages clean")                                           \
	X(smtp_messages_infected, C, "SMTP messages infected")                                     \
	X(smtp_messages_oversize, C, "SMTP messages over max_message_size (oversize applies)")     \
	X(smtp_messages_errors, C, "SMTP messages whose scan failed or hit a limit")               \
	X(smtp_bdat_messages, C, "SMTP messages sent with BDAT")                                   \
	X(smtp_candidates, C, "SMTP candidate messages (ambiguous ends, smuggling) scanned")       \
	X(smtp_bare_line_ends, C, "SMTP ends of data with a bare CR or LF")                        \
	X(smtp_pipelined, C, "SMTP commands sent before the previous reply")                       \
	X(smtp_starttls, C, "SMTP sessions passed through after STARTTLS")                         \
	X(smtp_unknown_commands, C, "SMTP unknown commands")                                       \
	X(smtp_long_lines, C, "SMTP command lines over the cap")                                   \
	X(smtp_data_refused, C, "SMTP DATA refused by the server")                                 \
	X(smtp_readings, C, "SMTP other readings followed (DATA or BDAT a server may not take)")   \
	X(smtp_readings_full, C, "SMTP other readings not followed: too many at once")             \
	X(smtp_events_full, C, "SMTP segments with more message ends than kept (failed closed)")   \
	X(smtp_rejects, C, "SMTP 554 replies injected")                                            \
	X(smtp_rejects_cut, C, "of those, the packet passed up to the message's last byte")        \
	X(total_buffer_tempfail, C,                                                                \
	  "messages refused for now: total_buffer full (451, POP3 reset)")                         \
	X(smtp_tempfail, C, "SMTP 451 replies injected (on_error, memory: the sender retries)")    \
	X(pop3_sessions, C, "POP3 sessions followed")                                              \
	X(pop3_messages_clean, C, "POP3 messages retrieved clean (RETR and TOP)")                  \
	X(pop3_messages_infected, C, "POP3 messages infected (never completed)")                   \
	X(pop3_messages_oversize, C, "POP3 messages over max_message_size (oversize applies)")     \
	X(pop3_messages_errors, C, "POP3 messages whose scan failed or hit a limit")               \
	X(pop3_retr, C, "POP3 RETR answered +OK")                                                  \
	X(pop3_top, C, "POP3 TOP answered +OK (partial messages)")                                 \
	X(pop3_candidates, C, "POP3 candidate messages (ambiguous ends) scanned")                  \
	X(pop3_bare_line_ends, C, "POP3 ends of a body with a bare CR or LF")                      \
	X(pop3_pipelined, C, "POP3 commands sent before the previous response")                    \
	X(pop3_stls, C, "POP3 sessions passed through after STLS")                                 \
	X(pop3_unknown_commands, C, "POP3 unknown commands")                                       \
	X(pop3_long_lines, C, "POP3 lines over the cap")                                           \
	X(pop3_errors, C, "POP3 -ERR responses")                                                   \
	X(pop3_deletes, C, "POP3 infected messages deleted on the server (DELE, QUIT injected)")   \
	X(pop3_delete_refused, C, "POP3 DELE refused by the server (left there, client reset)")    \
	X(pop3_held_bytes, G, "POP3 body bytes kept whole now, not yet out to the client")         \
	X(pop3_released, C, "POP3 captures whose bytes all went out to the client")                \
	X(pop3_retransmits, C, "POP3 released segments sent again to the client")                  \
	X(pop3_acks_sent, C, "POP3 acknowledgements sent to the server in the client's name")      \
	X(pop3_replaced, C, "POP3 infected messages sent on as a notice of the same length")       \
	X(pop3_hold_fallbacks, C, "POP3 bodies held at their end only (pop3_hold_max, memory)")    \
	X(pop3_ooo_dropped, C, "POP3 server segments out of order before a body (sent again)")     \
	X(resets, C, "connections reset (both sides)")

#define STATS_FIELD(name, kind, help) uint64_t name;
struct stats {
	STATS_TABLE(STATS_FIELD)
};
#undef STATS_FIELD

enum stats_format { STATS_TEXT, STATS_JSON, STATS_PROMETHEUS };

/* Relaxed atomic adds and loads: one writer per struct, readers on other threads. */
#define STATS_ADD(s, field, n) __atomic_fetch_add(&(s)->field, (n), __ATOMIC_RELAXED)
#define STATS_SET(s, field, v) __atomic_store_n(&(s)->field, (v), __ATOMIC_RELAXED)
/* adds to the counter at byte offset OFF in S (tables of counters) */
static inline void stats_add_at(struct stats *s, size_t off, uint64_t n)
{
	__atomic_fetch_add((uint64_t *)(void *)((char *)s + off), n, __ATOMIC_RELAXED);
}

/* raises a maximum; safe with several writers */
#define STATS_MAX(s, field, v)                                                                     \
	do {                                                                                       \
		uint64_t o_ = __atomic_load_n(&(s)->field, __ATOMIC_RELAXED), v_ = (v);            \
		while (v_ > o_ &&                                                                  \
		       !__atomic_compare_exchange_n(&(s)->field, &o_, v_, 1, __ATOMIC_RELAXED,     \
						    __ATOMIC_RELAXED))                             \
			;                                                                          \
	} while (0)

/* Sums N per-thread structs into OUT (gauges that are maxima take the max). */
void stats_sum(struct stats *out, const struct stats *const *in, unsigned int n);
/* Writes S in FORMAT: key=value lines, one JSON object, or Prometheus exposition. */
/* A scanner backend (scanners = ...): its counters, kept by scanner.c */
struct backend_stats {
	uint64_t scans, bytes, errors, timeouts, time_us_total;
	uint64_t le_10ms, le_100ms, le_1s, le_10s; /* latency histogram */
};
struct backend_report {
	char name[160];
	const char *kind;
	int up;
	unsigned int max, outstanding;
	struct backend_stats st;
};

/* the counters, then the N backends' (text: a "backend=NAME key=value..." line each;
 * JSON: a "backends" array; Prometheus: families labelled by backend) */
void stats_print(FILE *, const struct stats *, const struct backend_report *, size_t n,
		 enum stats_format);

#endif
