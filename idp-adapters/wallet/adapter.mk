# adapter.mk — build flags of the wallet adapter (included by the top-level Makefile): libqrencode
# for the cross-device QR code, zlib for the Token Status List. The fuzz targets
# tests/fuzz/fuzz_wallet_*.c compile the adapter's sources in.
ADAPTER_CFLAGS_wallet := $(shell pkg-config --cflags libqrencode)
ADAPTER_LIBS_wallet := $(shell pkg-config --libs libqrencode zlib)

$(O)/fuzz/fuzz_wallet_sdjwt $(O)/fuzz/fuzz_wallet_jwe: CFLAGS += -Iidp-adapters/wallet
