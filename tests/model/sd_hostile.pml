/*
 * sd_hostile.pml - the host reader (SPEC.md 3.1 live, 3.4 paused, 4.2/4.3
 * validation) against a hostile guest that may write anything at any time.
 *
 * What is modelled
 *   - The last chunk of a span: NSLOT = 4 bit slots (2 words of 2 bits), of
 *     which the chunk covers NP = 3 pages; slot 3 is padding past the span's
 *     end (4.2.1). Page 0 is one of the table's own pages (4.2.3, 4.3.2).
 *   - The hostile writer. It may store any value into any field between any
 *     two of the reader's loads, so each load the reader makes returns an
 *     arbitrary value of the field's domain, independent of every earlier
 *     load. Modelling that directly (a nondeterministic load) gives exactly
 *     the behaviours of a writer process that rewrites memory at every step,
 *     without storing the memory's contents in every state. The domains hold
 *     every value a check can distinguish:
 *       seq            0..3   (odd and even, equal and different)
 *       nr_shared      0..4   (4 exceeds the chunk's 3 pages)
 *       pending_first  0..4   (3 and 4 lie outside the chunk)
 *       pending_count  0..4   (0 is empty; 4 exceeds the chunk)
 *       bitmap words   0..3   (every combination, including the pad bit)
 *   - The reader, in either mode (chosen nondeterministically):
 *       live:   ATT attempts of s1 / R1 / copy / R2 / s2 (3.1), then 4.2;
 *       paused: one attempt, odd accepted (3.4), then 4.2 or 4.3, then one
 *               verdict per page (PRIVATE, SHARED or TRANSITION).
 *     The reader loads every field once per attempt and validates and uses
 *     only its copy (no double fetch). A live read does not load the pending
 *     range: 4.2 ignores it on an even copy, so it cannot change an outcome.
 *
 * What is checked
 *   H1 termination within the bound: at most ATT attempts (1 when paused),
 *      at most LOADS_PER_ATT loads in one attempt and ATT * LOADS_PER_ATT in
 *      all (the bound of SPEC 6.3), checked at every load; and the reader
 *      always reaches `done` (safety run: no invalid end state; liveness run:
 *      the LTL property `terminates`, <> done, has no acceptance cycle).
 *   H2 the result is OK or one of the named errors the mode allows:
 *      live:   CHUNK_ODD, CHUNK_RETRIES, CHUNK_PAD, CHUNK_COUNT, TABLE_NOT_SHARED
 *      paused: CHUNK_RETRIES, CHUNK_PAD, CHUNK_COUNT, CHUNK_PENDING,
 *              TABLE_NOT_SHARED (never CHUNK_ODD: an odd count is decided).
 *   H3 the error is the right one. Live: CHUNK_ODD exactly when every attempt
 *      saw an odd count, CHUNK_RETRIES only when some attempt saw an even one.
 *      Paused: CHUNK_RETRIES exactly when the two seq loads differ (a paused
 *      guest cannot move its count; one that does is not paused).
 *   H4 OK only with a validated copy: what the reader hands back (res_*)
 *      came from one attempt whose two seq loads agreed, has no pad bit, has
 *      its table page shared and not in transition, and either is even with
 *      nr_shared == popcount, or (paused only) is odd with a pending range
 *      inside the chunk; and every page's verdict follows from that copy.
 */

#ifndef ATT
#define ATT	3	/* live reader's max_attempts */
#endif

#define NP	3	/* pages the chunk covers */
#define TABLE_PAGE 0	/* a table page lies in this chunk */
#define LOADS_PER_ATT 7	/* seq, nr_shared, pending_first, pending_count, 2 words, seq */

/* SPEC 4.6 numbers */
#define OK		0
#define E_NOT_SHARED	128
#define E_COUNT		129
#define E_PENDING	130
#define E_PAD		131
#define E_ODD		132
#define E_RETRIES	133

#define PRIV	0
#define SHARED	1
#define TRANS	2

#define POP2(x)		(((x) & 1) + (((x) >> 1) & 1))
#define BIT(b0, b1, p)	((((p) < 2 -> (b0) : (b1)) >> ((p) % 2)) & 1)
#define IN(p, f, c)	((p) >= (f) && (p) < (f) + (c))

/* One load of a hostile field: any value of its domain. Every load is
 * counted, and H1 checks the count against the bound of SPEC 6.3. */
#define MAX_LOADS	(paused_mode -> LOADS_PER_ATT : ATT * LOADS_PER_ATT)
#define COUNT_LOAD	loads++; total = (total < 255 -> total + 1 : total); \
			assert(H1_bounded && loads <= LOADS_PER_ATT && total <= MAX_LOADS)
#define LOAD4(x)	if :: x = 0 :: x = 1 :: x = 2 :: x = 3 fi; COUNT_LOAD
#define LOAD5(x)	if :: x = 0 :: x = 1 :: x = 2 :: x = 3 :: x = 4 fi; COUNT_LOAD

/* Property names: constant 1, not state; each assertion starts with its name. */
hidden byte H1_bounded = 1, H2_named_result = 1, H3_right_error = 1, H4_validated_copy = 1;
hidden byte probe = 1;

bit paused_mode;
byte result = 255;
bit done;
/* what the reader hands back */
byte res_seq, res_nr, res_pf, res_pc, res_b0, res_b1;
byte verdict[NP];
/* ghosts: what the loads returned, kept apart from the reader's own logic */
byte g_saw_even;	/* attempts whose first seq load was even */
byte g_s1, g_s2;	/* the seq loads of the last attempt that copied */

/* validation (4.2 / 4.3, in validate.c's order); err = OK or the first failure */
inline validate(s, n, f, c, b0, b1, err)
{
	err = OK;
#ifndef LIVE_ACCEPT_ODD
	if
	:: (s & 1) && !paused_mode -> err = E_ODD		/* 4.3.0 */
	:: else
	fi;
#endif
#ifndef NO_PAD_CHECK
	if
	:: err == OK && BIT(b0, b1, 3) -> err = E_PAD		/* 4.2.1 */
	:: else
	fi;
#endif
	if
	:: err == OK && (s & 1) ->
#ifndef NO_PENDING_CHECK
		if					/* 4.3.1 */
		:: c == 0 || f >= NP || c > NP - f -> err = E_PENDING
		:: else
		fi
#else
		skip
#endif
	:: err == OK && !(s & 1) ->
#ifndef NO_COUNT_CHECK
		if					/* 4.2.2 */
		:: n != POP2(b0) + POP2(b1) -> err = E_COUNT
		:: else
		fi
#else
		skip
#endif
	:: else
	fi;
#ifndef NO_TABLE_CHECK
	if
	:: err == OK && (s & 1) && IN(TABLE_PAGE, f, c) -> err = E_NOT_SHARED	/* 4.3.2 */
	:: err == OK && !BIT(b0, b1, TABLE_PAGE) -> err = E_NOT_SHARED		/* 4.2.3 */
	:: else
	fi
#else
	skip
#endif
}

active proctype reader()
{
	byte att, nodd, loads, total, s1, s2, cnr, cpf, cpc, cb0, cb1, err, p;

	if
	:: paused_mode = 0
	:: paused_mode = 1
	fi;
	do
	:: att < (paused_mode -> 1 : ATT) ->
		att++;
		assert(H1_bounded && att <= (paused_mode -> 1 : ATT));
		loads = 0;
#ifdef NO_BOUND
		/* mutant: wait for an even count before the attempt counts */
		do
		:: LOAD4(s1);
		   if
		   :: s1 & 1 && !paused_mode -> loads = 0
		   :: else -> break
		   fi
		od;
#else
		LOAD4(s1);
#endif
		if
		:: !(s1 & 1) -> g_saw_even++
		:: else
		fi;
		if
#ifndef LIVE_ACCEPT_ODD
		:: (s1 & 1) && !paused_mode -> nodd++			/* a window is open: retry */
#endif
		:: else ->
			/* R1: the copy; every field loaded once */
			LOAD5(cnr);
			if
			:: paused_mode -> LOAD5(cpf); LOAD5(cpc)		/* live reads ignore them */
			:: else
			fi;
			LOAD4(cb0);
			LOAD4(cb1);
			/* R2 */
			LOAD4(s2);
			g_s1 = s1; g_s2 = s2;
			if
			:: s2 == s1 ->
				validate(s1, cnr, cpf, cpc, cb0, cb1, err);
				if
				:: err == OK ->
					res_seq = s1; res_nr = cnr; res_pf = cpf; res_pc = cpc;
					res_b0 = cb0; res_b1 = cb1;
#ifdef DOUBLE_FETCH
					/* mutant: the bitmap is loaded again for use */
					LOAD4(res_b0);
#endif
					/* verdicts, from the validated copy only */
					p = 0;
					do
					:: p < NP ->
						verdict[p] = ((res_seq & 1) && IN(p, res_pf, res_pc) -> TRANS :
							      BIT(res_b0, res_b1, p));
						p++
					:: else -> break
					od
				:: else
				fi;
				result = err;
				goto fin
			:: else		/* the count moved: retry (paused: give up) */
			fi
		fi
	:: else -> break
	od;
	result = (nodd == att -> E_ODD : E_RETRIES);
fin:
	/* H2: OK or a named error of this mode */
	assert(H2_named_result && (result == OK || result == E_RETRIES || result == E_PAD ||
	       result == E_COUNT || result == E_NOT_SHARED ||
	       (!paused_mode && result == E_ODD) ||
	       (paused_mode && result == E_PENDING)));
	/* H3: the right retry error. Live: CHUNK_ODD exactly when every attempt saw
	 * an odd count. Paused: CHUNK_RETRIES exactly when the count moved. */
	assert(H3_right_error && (paused_mode || (result == E_ODD) == (g_saw_even == 0)));
	assert(H3_right_error && (paused_mode || result != E_RETRIES || g_saw_even > 0));
	assert(H3_right_error && (!paused_mode || (result == E_RETRIES) == (g_s1 != g_s2)));
	if
	:: result == OK ->
		/* H4: a copy from one confirmed attempt ... */
		assert(H4_validated_copy && g_s1 == g_s2 && res_seq == g_s1);
		/* ... that is valid: no pad bit, table page shared ... */
		assert(H4_validated_copy && !BIT(res_b0, res_b1, 3) && BIT(res_b0, res_b1, TABLE_PAGE));
		/* ... even with the right count, or paused and odd with a sane window */
		assert(H4_validated_copy && ((!(res_seq & 1) && res_nr == POP2(res_b0) + POP2(res_b1)) ||
		       (paused_mode && (res_seq & 1) && res_pc >= 1 && res_pf + res_pc <= NP &&
			!IN(TABLE_PAGE, res_pf, res_pc))));
		/* ... and every verdict follows from it */
		p = 0;
		do
		:: p < NP ->
			assert(H4_validated_copy &&
			       ((verdict[p] == TRANS && (res_seq & 1) && IN(p, res_pf, res_pc)) ||
				(verdict[p] != TRANS && verdict[p] == BIT(res_b0, res_b1, p) &&
				 !((res_seq & 1) && IN(p, res_pf, res_pc)))));
			p++
		:: else -> break
		od;
		assert(H4_validated_copy && verdict[TABLE_PAGE] == SHARED)
	:: else
	fi;
#ifdef PROBE_OK_ODD
	assert(probe && !(result == OK && (res_seq & 1)));	/* probe: a paused odd chunk is decided */
#endif
#ifdef PROBE_RETRIES
	assert(probe && result != E_RETRIES);	/* probe: the count moves under the live reader */
#endif
	done = 1
}

ltl terminates { <> done }
