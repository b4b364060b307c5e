# mailscan: plain Makefile, pkg-config, output under build/.
PKGS     := libmnl libnetfilter_queue libnftnl libclamav libseccomp libcap-ng
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	    -Wformat=2 -Wno-format-nonliteral -Werror=implicit-function-declaration
CPPFLAGS += -Iinclude -D_GNU_SOURCE
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libclamav is not linked: src/scan.c opens it (dlopen) in the processes that scan, by
# the name of the library its headers came with
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libclamav,$(PKGS)) 2>/dev/null)
CLAMAV_SONAME := $(shell objdump -p $$(pkg-config --variable=libdir libclamav 2>/dev/null)/libclamav.so 2>/dev/null | \
	awk '$$1 == "SONAME" {print $$2}')
CPPFLAGS   += $(if $(CLAMAV_SONAME),-DCLAMAV_SONAME='"$(CLAMAV_SONAME)"')
ALL_CFLAGS  = $(CFLAGS) $(WARN) $(PKG_CFLAGS) -MMD -MP -pthread
LDLIBS     += $(PKG_LIBS) -ldl -pthread

B := build
# pure modules: libc only
PURE    := config live scanners ports iana_tcp log buf decode reasm tcpnorm flow packet stats policy msg smtpcmd smtp pop3 release notice
DAEMON  := main daemon reload queue hold capture flows nfqueue inject ctl_server metrics service session
CTL     := ctl/mailscanctl ctl_client
SYS     := rules
SCAN    := check scan msgfd scanjob scanner scanlocal scanproc quarantine sandbox privsep remote clamd icap clock

PURE_O  := $(PURE:%=$(B)/obj/%.o)
SYS_O   := $(SYS:%=$(B)/obj/%.o)
SCAN_O  := $(SCAN:%=$(B)/obj/%.o)
UNITS   := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
TOOLS   := $(patsubst tests/tools/%.c,%,$(wildcard tests/tools/*.c))
FUZZ    := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all clean check unit integration sanitize sanitize-integration fuzz format format-check deps fresh-check demo bench testsigs \
	install uninstall deb
all: $(B)/mailscand $(B)/mailscanctl $(UNITS:%=$(B)/tests/%) $(TOOLS:%=$(B)/tools/%) \
	$(FUZZ:%=$(B)/fuzz/replay_%) testsigs

$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/mailscand: $(DAEMON:%=$(B)/obj/%.o) $(PURE_O) $(SYS_O) $(SCAN_O)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

# check: the configuration check, which loads the signature database as the daemon would
$(B)/mailscanctl: $(CTL:%=$(B)/obj/%.o) $(PURE_O) $(SYS_O) $(B)/obj/check.o $(B)/obj/scan.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(PURE_O) $(SYS_O) $(SCAN_O)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(B)/tools/scanbench: tests/tools/scanbench.c $(PURE_O) $(SCAN_O)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(B)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

# mailscan's test signatures (clamav-testfiles + EICAR), for tests and the demo
testsigs: build/testsigs/mailscan-test.hdb
build/testsigs/mailscan-test.hdb: scripts/gen-test-sigs.sh
	@scripts/gen-test-sigs.sh build/testsigs

# fuzz targets, replayed over their committed corpus without libFuzzer
$(B)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(PURE_O)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

unit: $(UNITS:%=$(B)/tests/%) $(FUZZ:%=$(B)/fuzz/replay_%) testsigs
	@TOP=$(CURDIR) tests/run-unit.sh $(B)/tests $(UNITS)
	@for f in $(FUZZ); do $(B)/fuzz/replay_$$f tests/fuzz/corpus/$$f/* | sed "s/^replay:/replay_$$f:/"; done

# libFuzzer with clang, FUZZ_SECONDS per target; new inputs go to build/fuzz/corpus
FUZZ_SECONDS ?= 60
fuzz:
	@for f in $(FUZZ); do \
		mkdir -p build/fuzz/corpus/$$f && \
		clang $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o build/fuzz/fuzz_$$f \
			tests/fuzz/fuzz_$$f.c $(PURE:%=src/%.c) && \
		build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			build/fuzz/corpus/$$f tests/fuzz/corpus/$$f || exit 1; \
	done

integration: all
	@tests/run-integration.sh $(if $(SHUFFLE),--shuffle)

check: all unit integration

# Same tree built with ASan and UBSan into build/san: the unit tests run there, and
# the daemon built there runs the integration tests of the packet path and both
# protocols (a sanitizer report in its log fails them).
SAN_FLAGS := CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	LDFLAGS="-fsanitize=address,undefined"
SAN_TESTS := packet/0003 packet/0004 smtp/0001 smtp/0002 pop3/0001 pop3/0002 tcp/0001 tcp/0003 privsep/0001 pop3/0008 \
	tcp/0013
sanitize:
	$(MAKE) B=build/san $(SAN_FLAGS) unit

sanitize-integration:
	$(MAKE) -s B=build/san $(SAN_FLAGS) build/san/mailscand build/san/mailscanctl build/san/tools/nfq_accept
	BUILD=$(CURDIR)/build/san tests/run-integration.sh $(if $(SHUFFLE),--shuffle) $(SAN_TESTS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@bad=$$(for f in $$(git ls-files '*.c' '*.h'); do clang-format --dry-run --Werror $$f >/dev/null 2>&1 || echo $$f; done); \
	if [ -n "$$bad" ]; then echo "not formatted: $$bad"; exit 1; fi; echo "format ok"

deps:
	scripts/deps.sh

# the README's two commands on a fresh Debian 12 (a debootstrap chroot), torn down after
fresh-check:
	scripts/fresh-machine.sh

demo: all
	scripts/demo.sh

clean:
	rm -rf $(B)

# install: PREFIX for programs, manual pages, the unit and the rule files; the
# configuration always goes to /etc/mailscan (the programs' default), never over an
# existing one. DESTDIR stages the tree (packages).
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/mailscan
DOCDIR  ?= $(PREFIX)/share/doc/mailscan
UNITDIR ?= $(PREFIX)/lib/systemd/system
CONFDIR := /etc/mailscan
install: $(B)/mailscand $(B)/mailscanctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DATADIR)/nft $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	install -m 755 $(B)/mailscand $(B)/mailscanctl $(DESTDIR)$(SBINDIR)/
	install -m 644 scripts/dist/man/mailscan.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 scripts/dist/man/mailscand.8 scripts/dist/man/mailscanctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 755 nft/*.nft $(DESTDIR)$(DATADIR)/nft/
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/
	sed 's|/usr/sbin/|$(SBINDIR)/|g' scripts/dist/mailscand.service >$(DESTDIR)$(UNITDIR)/mailscand.service
	chmod 644 $(DESTDIR)$(UNITDIR)/mailscand.service
	@if [ -e $(DESTDIR)$(CONFDIR)/mailscan.conf ]; then \
		echo "install: $(DESTDIR)$(CONFDIR)/mailscan.conf exists, kept"; \
	else install -m 644 scripts/dist/mailscan.conf $(DESTDIR)$(CONFDIR)/mailscan.conf; fi

# uninstall keeps the configuration and the ports file (and the rules: see `mailscanctl
# rules remove`)
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mailscand $(DESTDIR)$(SBINDIR)/mailscanctl \
		$(DESTDIR)$(MANDIR)/man5/mailscan.conf.5 $(DESTDIR)$(MANDIR)/man8/mailscand.8 \
		$(DESTDIR)$(MANDIR)/man8/mailscanctl.8 $(DESTDIR)$(UNITDIR)/mailscand.service
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)

deb:
	scripts/build-deb.sh

-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)

bench: all
	scripts/bench-packet.sh
	scripts/bench-flows.sh
	scripts/bench-scan.sh
	scripts/bench-procs.sh
	scripts/bench-remote.sh
	scripts/bench-mail.sh
	scripts/bench-flood.sh
