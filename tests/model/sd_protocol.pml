/*
 * sd_protocol.pml - SPEC.md's writer (2.1, 2.2) and reader (3.1, 3.4) protocols
 * for one chunk, on a weak memory model, checked exhaustively by spin.
 *
 * What is modelled
 *   - One chunk of NP = 4 pages. The bitmap is NWD = 2 words of 2 bits: page p
 *     is bit p % 2 of word p / 2, so a window can cover part of a word (the
 *     writer must then keep the other bit of that word unchanged) or span
 *     both words (a pause can fall between the two word stores).
 *   - NW writers (guest vCPUs), serialised by the chunk's guest-private lock,
 *     each making NUPD updates. Each update picks any range (first, count)
 *     and any target state, including one the pages already have (2.1: the
 *     window opens anyway), and runs SPEC 2.1 steps 1-6 with the page
 *     conversion (2.2) between begin (steps 1-3) and commit (steps 4-6).
 *     The writer never reads the table: every stored value comes from its
 *     private state (pseq, pnr, shadow), as in 2.5.
 *   - Weak memory. Each writer's stores go through its own store buffer;
 *     the process mem() makes buffered stores visible in ANY order, except
 *     that two stores to the same field stay in order (coherence). A write
 *     barrier (W0, W1, W2) waits until the buffer is empty, so no store after
 *     it becomes visible before any store ahead of it. Removing a barrier
 *     merges two groups of stores that may then become visible in any order.
 *     The live reader's loads may likewise be performed in any order, except
 *     where R1 (first seq load before the copy) and R2 (copy before second
 *     seq load) order them, and the second seq load never precedes the first
 *     (read-read coherence). This is the multi-copy-atomic model of ARMv8 and
 *     RISC-V; x86 (TSO) permits a subset of it.
 *   - A live reader: SPEC 3.1 with ATT attempts, running at any time.
 *   - A pause: at any moment, between any two writer steps (including between
 *     the two bitmap-word stores of one window), every writer freezes
 *     (`provided (!paused)`). Leaving KVM_RUN is serialising, so the pause
 *     also makes every store a frozen writer has issued visible; then the
 *     paused reader (SPEC 3.4) reads the chunk once and decides every page.
 *     The guest is then resumed and runs to completion.
 *
 * What is checked (assertions)
 *   P1 live:   a copy the live reader accepts is exactly the state the
 *              writer published with the sequence count the reader saw
 *              (pub_*: the private state at the even store that produced
 *              that count). A torn copy can never be accepted.
 *   P2 live:   an accepted copy passes validation 4.2 (nr_shared == popcount).
 *   P3 paused: the paused read never fails on this (conforming) writer:
 *              s1 == s2 and 4.2 / 4.3 validation passes.
 *   P4 paused: every page's verdict is right. The ghost gstate[p] is the
 *              page's true state (PRIV, SHARED, or MID while its conversion
 *              runs) and gwin[p] says whether p is inside the window the
 *              writer has opened (from step 1 to step 6). A verdict PRIV or
 *              SHARED must equal gstate[p]; TRANSITION is allowed only for a
 *              page inside the open window. So pages outside the pending
 *              range are exactly right, and only pages the writer is
 *              actually converting may be reported in transition.
 *   P5 end:    after the run, the table equals the writer's private state.
 *
 * Mutants (compile-time macros; each must make spin report an error) and
 * probes (assert(0) at an interesting point; must be reachable) are listed
 * in tests/model/run-model.sh and docs/RELIABILITY.md.
 */

#ifndef NW
#define NW	2	/* writers */
#endif
#ifndef NUPD
#define NUPD	1	/* updates per writer */
#endif
#ifndef ATT
#define ATT	2	/* live reader's max_attempts */
#endif

#define NP	4	/* pages in the chunk */
#define NWD	2	/* bitmap words, 2 pages each */
#define SB	8	/* store buffer slots per writer */

/* page states (ghost truth, and the paused reader's verdicts) */
#define PRIV	0
#define SHARED	1
#define MID	2	/* ghost: conversion under way */
#define TRANS	2	/* verdict: in transition */

/* store-buffer locations; PUB marks the even seq store that publishes a state */
#define L_SEQ	0
#define L_NR	1
#define L_PF	2
#define L_PC	3
#define L_BM	4	/* + word */
#define PUB	128

/* ---- the shared chunk: descriptor and bitmap (guest memory, host-readable) */
byte seq, nr, pf, pc;
byte bm[NWD];

/* ---- guest-private writer state, protected by the lock (SPEC 2.4, 2.5) */
byte lk;			/* 0 free, else writer id + 1 */
byte pseq, pnr;
byte shadow[NWD];

/* ---- store buffers, one per writer */
byte sb_loc[NW * SB];
byte sb_val[NW * SB];
byte sb_n[NW];

/* ---- ghosts */
byte gstate[NP];		/* true page state: PRIV, SHARED, MID */
bit gwin[NP];			/* inside the open window */
byte pend_nr[NW];		/* the state a writer's buffered PUB store publishes */
byte pend_bm[NW * NWD];
byte pub_seq, pub_nr;		/* the state published with the last visible even seq */
byte pub_bm[NWD];
bit paused;
byte ndone;

hidden byte t_i, t_j, t_loc, t_val, t_m;	/* d_step temporaries, not state */

/* Property names: constant 1, not state. Each assertion starts with its
 * name, so that pan's "assertion violated (P1_copy_published && ...)" says
 * which property failed. */
hidden byte P1_copy_published = 1, P2_copy_valid = 1, P3_paused_read_ok = 1;
hidden byte P4_verdict_right = 1, P5_table_final = 1, probe = 1;

#ifdef PROBE_PAUSED_MID_BITS
byte gwords, gbits;		/* ghost, probe only: words in the window, word stores issued */
#define PROBE_WORDS(f, c)	gwords = (f + c - 1) / 2 - f / 2 + 1; gbits = 0
#define PROBE_WORD_STORED	gbits++
#else
#define PROBE_WORDS(f, c)	skip
#define PROBE_WORD_STORED	skip
#endif

#define POP2(x)		(((x) & 1) + (((x) >> 1) & 1))
#define BIT(b0, b1, p)	((((p) < 2 -> (b0) : (b1)) >> ((p) % 2)) & 1)
#define IN(p, f, c)	((p) >= (f) && (p) < (f) + (c))
#define DRAINED		(sb_n[0] == 0 && (NW < 2 || sb_n[NW - 1] == 0))

/* ---- barrier and step-order mutants ----------------------------------------- */
#ifdef NO_W0
#define W0(w)	skip
#else
#define W0(w)	(sb_n[w] == 0)	/* range before odd seq */
#endif
#ifdef NO_W1
#define W1(w)	skip
#else
#define W1(w)	(sb_n[w] == 0)	/* odd seq before bits and nr_shared */
#endif
#ifdef NO_W2
#define W2(w)	skip
#else
#define W2(w)	(sb_n[w] == 0)	/* bits and nr_shared before even seq */
#endif

/* a writer issues a store into its buffer (inside a d_step) */
inline push(w, loc, val)
{
	sb_loc[w * SB + sb_n[w]] = loc;
	sb_val[w * SB + sb_n[w]] = val;
	sb_n[w]++
}

/* entry i of buffer w may become visible: no earlier entry for the same field */
#define LOC(w, i)	(sb_loc[(w) * SB + (i)] & 127)
#define NE(w, i, j)	(LOC(w, i) != LOC(w, j))
#define EL0(w)	(sb_n[w] > 0)
#define EL1(w)	(sb_n[w] > 1 && NE(w,1,0))
#define EL2(w)	(sb_n[w] > 2 && NE(w,2,0) && NE(w,2,1))
#define EL3(w)	(sb_n[w] > 3 && NE(w,3,0) && NE(w,3,1) && NE(w,3,2))
#define EL4(w)	(sb_n[w] > 4 && NE(w,4,0) && NE(w,4,1) && NE(w,4,2) && NE(w,4,3))
#define EL5(w)	(sb_n[w] > 5 && NE(w,5,0) && NE(w,5,1) && NE(w,5,2) && NE(w,5,3) && NE(w,5,4))
#define EL6(w)	(sb_n[w] > 6 && NE(w,6,0) && NE(w,6,1) && NE(w,6,2) && NE(w,6,3) && NE(w,6,4) && NE(w,6,5))
#define EL7(w)	(sb_n[w] > 7 && NE(w,7,0) && NE(w,7,1) && NE(w,7,2) && NE(w,7,3) && NE(w,7,4) && NE(w,7,5) && NE(w,7,6))

/* make entry i of buffer w visible (inside a d_step) */
inline commit(w, i)
{
	t_loc = sb_loc[w * SB + i];
	t_val = sb_val[w * SB + i];
	if
	:: (t_loc & 127) == L_SEQ -> seq = t_val
	:: (t_loc & 127) == L_NR -> nr = t_val
	:: (t_loc & 127) == L_PF -> pf = t_val
	:: (t_loc & 127) == L_PC -> pc = t_val
	:: (t_loc & 127) >= L_BM -> bm[(t_loc & 127) - L_BM] = t_val
	fi;
	if
	:: t_loc & PUB ->
		pub_seq = t_val;
		pub_nr = pend_nr[w];
		t_j = 0;
		do
		:: t_j < NWD -> pub_bm[t_j] = pend_bm[w * NWD + t_j]; t_j++
		:: else -> break
		od
	:: else
	fi;
	t_j = i;
	do
	:: t_j + 1 < sb_n[w] ->
		sb_loc[w * SB + t_j] = sb_loc[w * SB + t_j + 1];
		sb_val[w * SB + t_j] = sb_val[w * SB + t_j + 1];
		t_j++
	:: else -> break
	od;
	sb_n[w]--;
	sb_loc[w * SB + sb_n[w]] = 0;
	sb_val[w * SB + sb_n[w]] = 0
}

/* The memory system: buffered stores become visible, in any allowed order. */
active proctype mem()
{
end:	do
	:: d_step { EL0(0); commit(0, 0) }
	:: d_step { EL1(0); commit(0, 1) }
	:: d_step { EL2(0); commit(0, 2) }
	:: d_step { EL3(0); commit(0, 3) }
	:: d_step { EL4(0); commit(0, 4) }
	:: d_step { EL5(0); commit(0, 5) }
	:: d_step { EL6(0); commit(0, 6) }
	:: d_step { EL7(0); commit(0, 7) }
#if NW > 1
	:: d_step { EL0(1); commit(1, 0) }
	:: d_step { EL1(1); commit(1, 1) }
	:: d_step { EL2(1); commit(1, 2) }
	:: d_step { EL3(1); commit(1, 3) }
	:: d_step { EL4(1); commit(1, 4) }
	:: d_step { EL5(1); commit(1, 5) }
	:: d_step { EL6(1); commit(1, 6) }
	:: d_step { EL7(1); commit(1, 7) }
#endif
	od
}

/* ---- the writer (guest): SPEC 2.1 steps, with the conversion of 2.2 ------------- */

/* bits of word wd that the window [f, f + c) covers */
inline wmask(wd, f, c)
{
	t_m = (IN(2 * wd, f, c) -> 1 : 0) | (IN(2 * wd + 1, f, c) -> 2 : 0)
}

/* the page conversion (C-bit, flushes, PSC): pages become MID, then the new state */
inline convert(f, c, d)
{
	d_step {
		t_i = f;
		do
		:: t_i < f + c -> gstate[t_i] = MID; t_i++
		:: else -> break
		od
	};
	d_step {
		t_i = f;
		do
		:: t_i < f + c -> gstate[t_i] = d; t_i++
		:: else -> break
		od
	}
}

proctype writer(byte w) provided (!paused)
{
	byte k, first, cnt, dir, wd;

	do
	:: k < NUPD ->
#ifndef NO_LOCK
		atomic { lk == 0 -> lk = w + 1 };
#endif
		/* any window, any target state */
		atomic { select(first : 0 .. NP - 1); select(cnt : 1 .. NP - first); select(dir : 0 .. 1) };
#ifdef CONVERT_BEFORE_BEGIN
		convert(first, cnt, dir);
#endif
		/* ---- begin: steps 1-3 */
#ifndef SWAP_RANGE_ODD
		d_step {	/* step 1; the window opens (ghost) */
			t_i = first;
			do
			:: t_i < first + cnt -> gwin[t_i] = 1; t_i++
			:: else -> break
			od;
			push(w, L_PF, first)
		};
		d_step { push(w, L_PC, cnt) };
		W0(w);
		d_step { pseq++; push(w, L_SEQ, pseq) };	/* step 2: odd */
#else
		/* mutant: the odd count is stored before the pending range */
		d_step {
			t_i = first;
			do
			:: t_i < first + cnt -> gwin[t_i] = 1; t_i++
			:: else -> break
			od;
			pseq++; push(w, L_SEQ, pseq)
		};
		W0(w);
		d_step { push(w, L_PF, first) };
		d_step { push(w, L_PC, cnt) };
#endif
		W1(w);
		/* ---- the conversion, inside the window */
#if !defined(CONVERT_BEFORE_BEGIN) && !defined(CONVERT_AFTER_COMMIT)
		convert(first, cnt, dir);
#endif
		/* ---- commit: steps 4-6 */
#ifdef SWAP_EVEN_BITS
		/* mutant: the even count is stored before the bits */
		d_step {
			wd = first / 2;
			do
			:: wd <= (first + cnt - 1) / 2 ->
				wmask(wd, first, cnt);
				shadow[wd] = (dir -> shadow[wd] | t_m : shadow[wd] & (3 - t_m));
				wd++
			:: else -> break
			od;
			pnr = POP2(shadow[0]) + POP2(shadow[1]);
			pseq++;
			pend_nr[w] = pnr;
			pend_bm[w * NWD] = shadow[0];
			pend_bm[w * NWD + 1] = shadow[1];
			t_i = first;
			do
			:: t_i < first + cnt -> gwin[t_i] = 0; t_i++
			:: else -> break
			od;
			push(w, L_SEQ | PUB, pseq);
			wd = 0
		};
		W2(w);
#endif
		d_step { wd = first / 2; PROBE_WORDS(first, cnt) };
		do
		:: wd <= (first + cnt - 1) / 2 ->
			/* step 4: one store of the whole new word (bits outside the range unchanged) */
#ifdef TRANSIENT_OUTSIDE_BITS
			/* mutant: the word is cleared, then written: outside bits flicker */
			d_step { push(w, L_BM + wd, 0) };
#endif
			d_step {
				wmask(wd, first, cnt);
#ifndef SWAP_EVEN_BITS
				shadow[wd] = (dir -> shadow[wd] | t_m : shadow[wd] & (3 - t_m));
#endif
				push(w, L_BM + wd, shadow[wd]);
				PROBE_WORD_STORED;
				wd++
			}
		:: else -> break
		od;
		/* (atomic, not d_step: the loop's break jumps here) */
		atomic { wd = 0; pnr = POP2(shadow[0]) + POP2(shadow[1]); push(w, L_NR, pnr) };
#ifndef SWAP_EVEN_BITS
		W2(w);
		d_step {	/* step 6: even; publishes the private state; the window closes */
			pseq++;
			pend_nr[w] = pnr;
			pend_bm[w * NWD] = shadow[0];
			pend_bm[w * NWD + 1] = shadow[1];
			t_i = first;
			do
			:: t_i < first + cnt -> gwin[t_i] = 0; t_i++
			:: else -> break
			od;
			push(w, L_SEQ | PUB, pseq)
		};
#endif
#ifdef CONVERT_AFTER_COMMIT
		convert(first, cnt, dir);
#endif
		/* unlock is a release: everything before it is visible first */
		atomic {
			sb_n[w] == 0;
#ifndef NO_LOCK
			lk = 0;
#endif
			first = 0; cnt = 0; dir = 0;
			pend_nr[w] = 0; pend_bm[w * NWD] = 0; pend_bm[w * NWD + 1] = 0;
			k++
		}
	:: else -> break
	od;
	ndone++
}

/* ---- the live reader (host): SPEC 3.1 ------------------------------------------ */

#define M_S1	1
#define M_NR	2
#define M_B0	4
#define M_B1	8
#define M_S2	16
#define M_COPY	(M_NR | M_B0 | M_B1)
#define M_ALL	(M_S1 | M_COPY | M_S2)

#ifdef NO_R1
#define R1_DONE(m)	1
#else
#define R1_DONE(m)	((m) & M_S1)		/* R1: first seq load before the copy */
#endif
#ifdef NO_R2
#define R2_DONE(m)	((m) & M_S1)		/* still after s1: read-read coherence */
#else
#define R2_DONE(m)	(((m) & (M_S1 | M_COPY)) == (M_S1 | M_COPY))	/* R2: copy before second load */
#endif

#ifndef NO_LIVE
byte live_result = 255;

proctype live()
{
	byte att, nodd, m, s1, s2, cnr, cb0, cb1;
	bit eok;		/* ghost: s1 is the count of a published state ... */
	byte enr, eb0, eb1;	/* ... and this is that state */

	do
	:: att < ATT ->
		att++;
		m = 0;
		/* the loads of one attempt, in any order the barriers allow */
		do
		:: !(m & M_S1) ->
			d_step {
				s1 = seq;
				eok = (seq == pub_seq);
				enr = pub_nr; eb0 = pub_bm[0]; eb1 = pub_bm[1];
				m = m | M_S1
			};
#if !defined(NO_R1) && !defined(LIVE_ACCEPT_ODD)
			/* odd: a writer is inside a window; with R1 nothing was copied yet */
			if
			:: s1 & 1 -> break
			:: else
			fi
#endif
		:: R1_DONE(m) && !(m & M_NR) -> d_step { cnr = nr; m = m | M_NR }
		:: R1_DONE(m) && !(m & M_B0) -> d_step { cb0 = bm[0]; m = m | M_B0 }
		:: R1_DONE(m) && !(m & M_B1) -> d_step { cb1 = bm[1]; m = m | M_B1 }
		:: R2_DONE(m) && !(m & M_S2) -> d_step { s2 = seq; m = m | M_S2 }
		:: m == M_ALL -> break
		od;
		if
#ifndef LIVE_ACCEPT_ODD
		:: s1 & 1 -> nodd++
#else
		/* mutant: the reader forgets that an odd count means "inside a window" */
		:: s1 & 1 -> if :: s2 == s1 -> goto accept :: else -> nodd++ fi
#endif
		:: else ->
			if
			:: s2 == s1 -> goto accept
			:: else		/* the count moved: retry */
			fi
		fi;
		d_step { m = 0; s1 = 0; s2 = 0; cnr = 0; cb0 = 0; cb1 = 0; eok = 0; enr = 0; eb0 = 0; eb1 = 0 }
	:: else -> break
	od;
	live_result = (nodd == ATT -> 132 : 133);	/* SD_ERR_CHUNK_ODD : SD_ERR_CHUNK_RETRIES */
#ifdef PROBE_LIVE_ODD
	assert(probe && live_result != 132);	/* probe: every attempt saw a window open */
#endif
#ifdef PROBE_LIVE_RETRIES
	assert(probe && live_result != 133);	/* probe: every attempt was overtaken */
#endif
	goto out;
accept:	skip;
	d_step {
		/* P1: the copy is exactly the state published with count s1 */
		assert(P1_copy_published && eok && cnr == enr && cb0 == eb0 && cb1 == eb1);
		/* P2: and it validates (4.2.2) */
		assert(P2_copy_valid && cnr == POP2(cb0) + POP2(cb1));
		live_result = 0
	};
#ifdef PROBE_LIVE_ACCEPT_NEW
	assert(probe && s1 == 0);	/* probe: a state published by a writer is accepted */
#endif
#ifdef PROBE_LIVE_RETRY
	assert(probe && att < 2);	/* probe: an accepted read needed a second attempt */
#endif
out:	skip
}
#endif

/* ---- the pause and the paused reader (host): SPEC 3.4 ------------------------------ */

#ifndef NO_PAUSE
proctype pauser()
{
	byte s1, s2, cnr, cpf, cpc, cb0, cb1, p, v;

	paused = 1;		/* at any moment: every writer freezes where it is */
	/* Leaving KVM_RUN is serialising: every store the frozen vCPUs issued is visible. */
	DRAINED;
	d_step {
		/* one read (R1 and R2 hold trivially: nothing moves) */
		s1 = seq; cnr = nr; cpf = pf; cpc = pc; cb0 = bm[0]; cb1 = bm[1]; s2 = seq;
		/* P3: the read is stable and validates */
		assert(P3_paused_read_ok && s2 == s1);
		if
		:: s1 & 1 ->	/* 4.3.1 */
			assert(P3_paused_read_ok && cpc >= 1 && cpf < NP && cpc <= NP - cpf)
		:: else ->	/* 4.2.2 */
			assert(P3_paused_read_ok && cnr == POP2(cb0) + POP2(cb1))
		fi;
#ifdef PROBE_PAUSED_MID_BITS
		/* probe: paused between the two word stores of a two-word window */
		assert(probe && !((s1 & 1) && gwords == 2 && gbits == 1));
#endif
#ifdef PROBE_PAUSED_CONVERTING
		assert(probe && !(gstate[0] == MID || gstate[1] == MID || gstate[2] == MID || gstate[3] == MID));
#endif
		/* P4: every verdict is right */
		p = 0;
		do
		:: p < NP ->
#ifndef PAUSED_IGNORE_RANGE
			v = ((s1 & 1) && IN(p, cpf, cpc) -> TRANS : BIT(cb0, cb1, p));
#else
			/* mutant: the reader takes every bit at face value */
			v = BIT(cb0, cb1, p);
#endif
			assert(P4_verdict_right && ((v == TRANS && gwin[p]) || (v != TRANS && v == gstate[p])));
			p++
		:: else -> break
		od;
		s1 = 0; s2 = 0; cnr = 0; cpf = 0; cpc = 0; cb0 = 0; cb1 = 0; p = 0; v = 0
	};
	paused = 0;		/* resume the guest */
	/* P5: when every writer is done, the table is the writers' private state */
	(ndone == NW && DRAINED);
	assert(P5_table_final && seq == pseq && !(seq & 1) && nr == pnr && bm[0] == shadow[0] && bm[1] == shadow[1])
}

#endif

#ifdef NO_PAUSE
/* without a pause: P5 only */
proctype finisher()
{
	(ndone == NW && DRAINED);
	assert(P5_table_final && seq == pseq && !(seq & 1) && nr == pnr && bm[0] == shadow[0] && bm[1] == shadow[1])
}
#endif

/* initial state: pages 1 and 2 shared, so windows border shared pages in both words */
init
{
	atomic {
		bm[0] = 2; bm[1] = 1; nr = 2;
		shadow[0] = 2; shadow[1] = 1; pnr = 2;
		pub_bm[0] = 2; pub_bm[1] = 1; pub_nr = 2;
		gstate[1] = SHARED; gstate[2] = SHARED;
#ifndef NO_LIVE
		run live();
#endif
#ifndef NO_PAUSE
		run pauser();
#else
		run finisher();
#endif
		run writer(0);
#if NW > 1
		run writer(1)
#endif
	}
}
