# cairn: build, test, demo, bench, install. `make` alone installs npm
# dependencies when they are missing and compiles TypeScript to dist/.
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR = $(DESTDIR)$(PREFIX)/lib/cairn
BINDIR = $(DESTDIR)$(PREFIX)/bin
MANDIR = $(DESTDIR)$(PREFIX)/share/man
NODE ?= node
TSC = node_modules/.bin/tsc
COMMANDS = $(shell $(NODE) -e 'for (const b of Object.keys(require("./package.json").bin)) console.log(b)')
MANPAGES = $(wildcard man/*.[157])
CC ?= cc
ADDON = dist/lib/native/cairn.node

.PHONY: all build test demo bench install uninstall clean

all: build

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Rebuilt only when a source changed: a `make install` run by a test must not
# rewrite dist/ under the other tests running beside it.
SOURCES = $(shell find lib test bench scripts -name '*.ts') tsconfig.json package.json

build: dist/.built $(ADDON)

dist/.built: node_modules/.package-lock.json $(SOURCES)
	$(TSC) -p .
	@touch $@

# The compiled addon (lib/tree/local/native.ts says why). Without a C
# compiler cairn still works, on Node's own calls: say so and go on.
$(ADDON): $(wildcard native/*.c native/*.h) node_modules/.package-lock.json
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -std=gnu11 -shared -fPIC -I node_modules/node-api-headers/include -o $@.tmp $(wildcard native/*.c) \
	  && mv $@.tmp $@ \
	  || { rm -f $@.tmp; echo "make: $(ADDON) not built (no C compiler?): cairn-scan and cairn-pack will use Node's own calls, 1.5x to 3x slower" >&2; }

test: build
	$(NODE) --test --test-concurrency=2 $$(find dist/test -name '*.test.js' | sort)

demo: build
	sh scripts/demo.sh

bench: build
	sh bench/run.sh

install: build
	$(NODE) scripts/install.js "$(LIBDIR)" "$(BINDIR)" "$(MANDIR)"

uninstall:
	rm -rf "$(LIBDIR)"
	for c in $(COMMANDS); do rm -f "$(BINDIR)/$$c"; done
	for m in $(notdir $(MANPAGES)); do rm -f "$(MANDIR)/man$${m##*.}/$$m"; done

clean:
	rm -rf dist
