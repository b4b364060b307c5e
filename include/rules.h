/* The nftables rules: table inet mailscan, built with libnftnl in one atomic batch. */
#ifndef MAILSCAN_RULES_H
#define MAILSCAN_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "ports.h"

#define RULES_TABLE "mailscan"

enum rules_backend {
	RULES_NATIVE, /* nft `queue` expression (needs nft_queue) */
	RULES_XT,     /* xt NFQUEUE target rev 3 through nft_compat */
};

struct rules_spec {
	enum config_mode mode;
	uint16_t queue_first;
	uint16_t queue_count;
	int bypass; /* fail open when no daemon listens */
	uint32_t offload_mark;
	uint32_t inject_mark;
	const struct port_set *ports;
};

struct nft_batch;

void rules_spec_from_config(struct rules_spec *, const struct config *, const struct port_set *);
const char *rules_backend_name(enum rules_backend);
/* "N" or "N-M", for messages */
const char *rules_queue_range(char *buf, size_t len, uint16_t first, uint16_t count);

/* Batch building, exposed for the unit tests. */
struct nft_batch *nft_batch_new(void);
void nft_batch_free(struct nft_batch *);
void rules_build_install(struct nft_batch *, const struct rules_spec *, enum rules_backend);
void rules_build_ports(struct nft_batch *, const struct port_set *);
/* Iterates the batch's messages between begin and end; for tests. */
const void *nft_batch_data(const struct nft_batch *, size_t *len);

/* Each returns 0, or -1 with a reason in ERR (errno set). */
int rules_install(const struct rules_spec *, enum rules_backend *used, char *err, size_t errlen);
int rules_remove(int *was_installed, char *err, size_t errlen);
/* Replaces the live port sets; returns 1 (no change) when the table is not installed. */
int rules_sync_ports(const struct port_set *, char *err, size_t errlen);
int rules_show(FILE *, char *err, size_t errlen);

#endif
