/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What moat-bench's BPF programs and its userspace share.  Plain
 * fixed-width types only: compiled by clang -target bpf and by the host
 * compiler.
 *
 *   bench_gen   the traffic generator, run by BPF_PROG_TEST_RUN with
 *               BPF_F_TEST_XDP_LIVE_FRAMES in namespace A; it overwrites
 *               each frame with the next template and redirects it to
 *               veth-a, so that veth-b in namespace B receives it.
 *   bench_drop  the baseline receiver on veth-b: count, XDP_DROP.
 */
#ifndef BENCH_KERN_USER_H
#define BENCH_KERN_USER_H

#include <linux/types.h>

/*
 * Frame lengths the generator can write.  64 bytes (60 + FCS on a wire)
 * is the size of the runs; IPv6 TCP needs 74 bytes of headers, so a
 * ruleset with IPv6 TCP rules runs with 80-byte frames, baseline
 * included.  The copy in the program has one constant size per length
 * because the verifier wants constant-sized packet accesses.
 */
#define BENCH_FRAME_SHORT 64
#define BENCH_FRAME_LONG 80
#define BENCH_TEMPLATE_SIZE 128

/* One element of the generator's templates array; userspace writes all. */
struct bench_template {
	__u8 data[BENCH_TEMPLATE_SIZE];
};

#endif /* BENCH_KERN_USER_H */
