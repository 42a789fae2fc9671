/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Valid rulesets and what they must parse to, shared by test-parse.c
 * (which checks the fields) and test-format.c (which checks that each
 * formats to a fixed point).
 *
 * The expected side is a plain dump of the data model, written by the
 * test and not by format.c, so that a formatter bug cannot hide a parser
 * bug: "policy=drop|allow|none", then per rule "; ACTION NAME" and the
 * fields that are given, numbers raw:
 *   p=6,17  src=/dst=ADDR/LEN,...  sp=/dp=/ty=/co=LO[-HI],...
 *   fl=VALUE/MASK (hex)  in=IF,...  c=[comments, '|' for '\n']  t=[trailing]
 * and at the end " pc=[...]", " pt=[...]", " tail=[...]" when present.
 */
#ifndef MOAT_TEST_PARSE_CASES_H
#define MOAT_TEST_PARSE_CASES_H

struct valid_case {
	const char *text;
	const char *dump;
};

#define NAME63 "n23456789012345678901234567890123456789012345678901234567890123"

static const struct valid_case valid_cases[] = {
	/* the file as a whole */
	{ "", "policy=none" },
	{ "\n\n\n", "policy=none" },
	{ "policy drop\n", "policy=drop" },
	{ "policy allow", "policy=allow" },
	{ "  policy   drop  \n", "policy=drop" },
	{ "allow a\n", "policy=none; allow a" },
	{ "drop a", "policy=none; drop a" },
	{ "allow a\npolicy drop\nallow b\n", "policy=drop; allow a; allow b" },
	{ "policy drop\r\nallow a tcp\r\n", "policy=drop; allow a p=6" },
	{ "allow\ta\ttcp\tdport\t22", "policy=none; allow a p=6 dp=22" },

	/* options */
	{ "mode audit\npolicy drop", "policy=drop mode=audit" },
	{ "mode enforce", "policy=none mode=enforce" },
	{ "allow a limit 100/s", "policy=none; allow a lim=100/1 bu=0" },
	{ "allow a icmp limit 30/m burst 5 per-source over-limit allow",
	  "policy=none; allow a p=1 lim=30/60 bu=5 ps oa" },
	{ "allow a limit 2mbytes/s burst 64kbytes", "policy=none; allow a lim=2000000/1B bu=64000" },
	{ "allow a limit 7bytes/h", "policy=none; allow a lim=7/3600B bu=0" },
	{ "drop a log", "policy=none; drop a log=1" },
	{ "drop a log 1/100 audit", "policy=none; drop a audit log=100" },
	{ "drop a audit tcp dport 22", "policy=none; drop a p=6 dp=22 audit" },

	/* conntrack */
	{ "policy drop\nallow established\n", "policy=drop est=allow" },
	{ "allow a\n# c\nclassify established # t\npolicy drop",
	  "policy=drop est=classify; allow a ec=[# c] et=[# t]" },
	{ "allow a ct new", "policy=none; allow a ct=1" },
	{ "classify established\nallow a tcp dport 22 ct established, related, invalid",
	  "policy=none est=classify; allow a p=6 dp=22 ct=e" },
	{ "drop a ct invalid\nallow b ct new,established",
	  "policy=none; drop a ct=8; allow b ct=3" },

	/* names */
	{ "allow 1a\nallow A\nallow a_b.c-d\nallow a--",
	  "policy=none; allow 1a; allow A; allow a_b.c-d; allow a--" },
	{ "allow " NAME63, "policy=none; allow " NAME63 },
	{ "allow syn\nallow echo-request\nallow policy2\nallow Tcp",
	  "policy=none; allow syn; allow echo-request; allow policy2; allow Tcp" },

	/* protocols */
	{ "allow a tcp", "policy=none; allow a p=6" },
	{ "allow a udp, tcp, sctp", "policy=none; allow a p=17,6,132" },
	{ "allow a icmp", "policy=none; allow a p=1" },
	{ "allow a icmpv6", "policy=none; allow a p=58" },
	{ "allow a any", "policy=none; allow a" },
	{ "allow a tcp, tcp", "policy=none; allow a p=6,6" },
	{ "allow a proto 47", "policy=none; allow a p=47" },
	{ "allow a proto tcp, 47, 0, 255, icmpv6",
	  "policy=none; allow a p=6,47,0,255,58" },

	/* addresses */
	{ "allow a from 10.0.0.0/8", "policy=none; allow a src=10.0.0.0/8" },
	{ "allow a from 192.0.2.1", "policy=none; allow a src=192.0.2.1/32" },
	{ "allow a to 2001:db8::/32, 10.1.0.0/16",
	  "policy=none; allow a dst=2001:db8::/32,10.1.0.0/16" },
	{ "allow a from 2001:DB8:0:0::1",
	  "policy=none; allow a src=2001:db8::1/128" },
	{ "allow a from 0.0.0.0/0, ::/0",
	  "policy=none; allow a src=0.0.0.0/0,::/0" },
	{ "allow a from any to any", "policy=none; allow a" },
	{ "allow a from ::ffff:192.0.2.1",
	  "policy=none; allow a src=::ffff:192.0.2.1/128" },
	{ "allow a from 0.0.0.0, 255.255.255.255/32, 10.128.0.0/9",
	  "policy=none; allow a src=0.0.0.0/32,255.255.255.255/32,10.128.0.0/9" },
	{ "allow a from 2001:db8:8000::/33",
	  "policy=none; allow a src=2001:db8:8000::/33" },

	/* ports */
	{ "allow a tcp dport 22", "policy=none; allow a p=6 dp=22" },
	{ "allow a tcp dport 80, 443, 8000-8999 sport 0-65535",
	  "policy=none; allow a p=6 sp=0-65535 dp=80,443,8000-8999" },
	{ "allow a udp sport 0, 65535, 7-7",
	  "policy=none; allow a p=17 sp=0,65535,7" },
	{ "allow a proto 6, 17, sctp dport 53",
	  "policy=none; allow a p=6,17,132 dp=53" },
	{ "allow a tcp dport 80 , 443 ,8080",
	  "policy=none; allow a p=6 dp=80,443,8080" },

	/* ICMP types and codes */
	{ "allow a icmp type echo-request", "policy=none; allow a p=1 ty=8" },
	{ "allow a icmpv6 type echo-request",
	  "policy=none; allow a p=58 ty=128" },
	{ "allow a icmp type 3-5, 11 code 0-4",
	  "policy=none; allow a p=1 ty=3-5,11 co=0-4" },
	{ "allow a icmpv6 type packet-too-big, neighbour-solicitation, mld2-report",
	  "policy=none; allow a p=58 ty=2,135,143" },
	{ "allow a proto 1 type source-quench, timestamp-reply",
	  "policy=none; allow a p=1 ty=4,14" },
	{ "allow a icmp, icmp type redirect",
	  "policy=none; allow a p=1,1 ty=5" },
	{ "allow a code 255 icmpv6", "policy=none; allow a p=58 co=255" },

	/* TCP flags */
	{ "allow a tcp flags syn", "policy=none; allow a p=6 fl=02/02" },
	{ "allow a tcp flags syn/syn,ack",
	  "policy=none; allow a p=6 fl=02/12" },
	{ "allow a tcp flags syn,ack/syn,ack,fin,rst",
	  "policy=none; allow a p=6 fl=12/17" },
	{ "allow a tcp flags /rst", "policy=none; allow a p=6 fl=00/04" },
	{ "allow a tcp flags cwr,ece,urg,ack,psh,rst,syn,fin",
	  "policy=none; allow a p=6 fl=ff/ff" },
	{ "allow a tcp flags syn , ack/ack , syn",
	  "policy=none; allow a p=6 fl=12/12" },

	/* interfaces */
	{ "allow a in eth0", "policy=none; allow a in=eth0" },
	{ "allow a in eth0, eth0.100, br-lan, wlp3s0_x",
	  "policy=none; allow a in=eth0,eth0.100,br-lan,wlp3s0_x" },
	{ "allow a in abcdefghijklmno",
	  "policy=none; allow a in=abcdefghijklmno" },
	{ "allow a in i1, i2, i3, i4, i5, i6, i7, i8\n"
	  "allow b in i9, i10, i11, i12, i13, i14, i15, i1",
	  "policy=none; allow a in=i1,i2,i3,i4,i5,i6,i7,i8;"
	  " allow b in=i9,i10,i11,i12,i13,i14,i15,i1" },

	/* fields in any order, and all of them */
	{ "allow a dport 22 from 10.0.0.0/8 tcp",
	  "policy=none; allow a p=6 src=10.0.0.0/8 dp=22" },
	{ "drop all tcp from 10.0.0.0/8 to 192.0.2.0/24 sport 1024-65535 dport 443 flags syn/syn,ack in eth0",
	  "policy=none; drop all p=6 src=10.0.0.0/8 dst=192.0.2.0/24 sp=1024-65535 dp=443 fl=02/12 in=eth0" },
	{ "allow a in lo code 0 type 8 to 192.0.2.1 icmp",
	  "policy=none; allow a p=1 dst=192.0.2.1/32 ty=8 co=0 in=lo" },

	/* a rule's IP versions: a warning, not an error */
	{ "allow a icmp, icmpv6 from 10.0.0.0/8",
	  "policy=none; allow a p=1,58 src=10.0.0.0/8" },
	{ "allow a from 10.0.0.0/8, 2001:db8::/32 to 2001:db8::1",
	  "policy=none; allow a src=10.0.0.0/8,2001:db8::/32 dst=2001:db8::1/128" },

	/* continuation lines */
	{ "allow a tcp dport 80,\n  443\n",
	  "policy=none; allow a p=6 dp=80,443" },
	{ "allow a tcp,\n udp,\n\tsctp dport 1\n",
	  "policy=none; allow a p=6,17,132 dp=1" },
	{ "allow a tcp dport 80, # http\n # 8080,\n 443 # https\nallow b",
	  "policy=none; allow a p=6 dp=80,443 c=[# http|# 8080,] t=[# https]; allow b" },

	/* comments */
	{ "# just a comment\n", "policy=none tail=[# just a comment]" },
	{ "# top\n\n\n# more\npolicy drop # why\n\n# r\nallow a # t\n\n# end\n\n",
	  "policy=drop; allow a c=[|# r] t=[# t] pc=[# top||# more] pt=[# why] tail=[|# end]" },
	{ "\n\nallow a\n#x\t \n", "policy=none; allow a tail=[#x]" },
	{ "allow a\n\npolicy drop\n\nallow b\n",
	  "policy=drop; allow a; allow b c=[]" },
	{ "allow a#no space\n", "policy=none; allow a t=[#no space]" },
	{ "#\ta\t\tb\t\nallow a # c\td\n",
	  "policy=none; allow a c=[#\ta\t\tb] t=[# c\td]" },
	{ "# \xc3\xa9t\xc3\xa9\n", "policy=none tail=[# \xc3\xa9t\xc3\xa9]" },
};

#endif /* MOAT_TEST_PARSE_CASES_H */
