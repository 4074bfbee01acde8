// Map entries with every kind of BTF layout the codecs handle: the C side writes one record with known
// values and checks one written from TypeScript, so the layout comes from clang, not from tsbpf.
#include "tsbpf.h"

enum color { RED = 1, GREEN = 2, BLUE = -3 };

struct port_proto {
  __u16 port;
  __u8 proto;
};

struct key {
  __u32 id;
  char name[4];
};

struct record {
  __u32 pid;
  signed char small;
  _Bool flag;
  char comm[16];
  unsigned int lo : 3, mid : 9, hi : 20;
  int neg : 5;
  struct port_proto ports[2];
  union {
    __u32 addr4;
    __u8 addr6[16];
  };
  enum color color;
  __u64 big;
  __s64 sbig;
  void *ptr;
  double ratio;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, struct key);
  __type(value, struct record);
  __uint(max_entries, 8);
} records SEC(".maps");

__u32 checked = 0;

// Writes key {1, "abc"}.
SEC("xdp") int fill(struct xdp_md *ctx) {
  struct key k = {.id = 1, .name = "abc"};
  struct record r = {};
  r.pid = 4000000000u;
  r.small = -7;
  r.flag = 1;
  __builtin_memcpy(r.comm, "tsbpf-test", 11);
  r.lo = 5;
  r.mid = 300;
  r.hi = 0xabcde;
  r.neg = -9;
  r.ports[0].port = 8080;
  r.ports[0].proto = 6;
  r.ports[1].port = 53;
  r.ports[1].proto = 17;
  r.addr4 = 0x0100007f;
  r.color = BLUE;
  r.big = 0xfedcba9876543210ull;
  r.sbig = -1234567890123ll;
  r.ptr = (void *)0x1000;
  r.ratio = 0.5;
  bpf_map_update_elem(&records, &k, &r, 0);
  return 2; // XDP_PASS
}

// Checks the record TypeScript wrote at key {2, "ts"}: returns a bitmask of the fields that differ (0: all equal).
SEC("xdp") int check(struct xdp_md *ctx) {
  struct key k = {.id = 2, .name = "ts"};
  struct record *r = bpf_map_lookup_elem(&records, &k);
  if (!r) return -1;
  int bad = 0;
  if (r->pid != 77) bad |= 1 << 0;
  if (r->small != -128) bad |= 1 << 1;
  if (r->flag != 1) bad |= 1 << 2;
  if (r->comm[0] != 'n' || r->comm[1] != 'o' || r->comm[2] != 'd' || r->comm[3] != 'e' || r->comm[4] != 0) bad |= 1 << 3;
  if (r->lo != 7 || r->mid != 511 || r->hi != 1) bad |= 1 << 4;
  if (r->neg != -16) bad |= 1 << 5;
  if (r->ports[0].port != 443 || r->ports[0].proto != 6 || r->ports[1].port != 0) bad |= 1 << 6;
  if (r->addr6[0] != 0xfe || r->addr6[1] != 0x80 || r->addr6[15] != 1) bad |= 1 << 7;
  if (r->color != GREEN) bad |= 1 << 8;
  if (r->big != 0xffffffffffffffffull || r->sbig != -2) bad |= 1 << 9;
  __u64 ratio_bits; // BPF has no floating point: compare 2.25's bits
  __builtin_memcpy(&ratio_bits, &r->ratio, 8);
  if (ratio_bits != 0x4002000000000000ull) bad |= 1 << 10;
  checked++;
  return bad;
}

char _license[] SEC("license") = "GPL";
