/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * seqcount.h - the chunk sequence count, both sides (SPEC.md sections 2, 3).
 *
 * Synchronization table for one chunk descriptor in the shared table:
 *
 *   operation                       may run concurrently with     needs
 *   writer: sd_seq_write_begin/end  any number of readers         the chunk's guest-private lock
 *   writer vs writer, same chunk    -                             (never: the lock serialises them)
 *   writer vs writer, other chunk   yes                           nothing
 *   reader: sd_seq_read_begin/retry writers and readers           nothing (readers never write)
 *
 * Barrier pairing (W = writer, R = reader):
 *   W0  pending range  -> odd count      pairs with R1 (a reader that saw odd sees this window's range)
 *   W1  odd count      -> bitmap/count   pairs with R2 (a reader that saw new data sees a new count)
 *   W2  bitmap/count   -> even count     pairs with R1 (a reader that saw even sees the data before it)
 *
 * The writer never reads the shared descriptor: @priv_seq is the guest's
 * private, authoritative count, so a host that scribbles over seq can't
 * steer the next value the guest publishes.
 */
#ifndef SD_SEQCOUNT_H
#define SD_SEQCOUNT_H

#include "sev_donate.h"
#include "sd_types.h"
#include "barrier.h"

/* Steps 1-3 of the writer protocol: open chunk @d's window over @first/@count. */
static inline void sd_seq_write_begin(struct sd_chunk_desc *d, u32 *priv_seq,
				      u32 first, u32 count)
{
	SD_WRITE_ONCE(d->pending_first, first);
	SD_WRITE_ONCE(d->pending_count, count);
	sd_smp_wmb();	/* W0: range before odd count; pairs with R1 */
	*priv_seq += 1;
	SD_WRITE_ONCE(d->seq, *priv_seq);
	sd_smp_wmb();	/* W1: odd count before bitmap and nr_shared; pairs with R2 */
}

/* Steps 5-6: close the window; the bitmap and nr_shared are written. */
static inline void sd_seq_write_end(struct sd_chunk_desc *d, u32 *priv_seq)
{
	sd_smp_wmb();	/* W2: bitmap and nr_shared before even count; pairs with R1 */
	*priv_seq += 1;
	SD_WRITE_ONCE(d->seq, *priv_seq);
}

/*
 * The reader's load of a chunk's count (one 32-bit single-copy-atomic load).
 * A test may define SD_SEQ_LOAD before including this header to compile a
 * reader whose counts misbehave on purpose (a count that changes on every
 * load); nothing else overrides it.
 */
#ifndef SD_SEQ_LOAD
#define SD_SEQ_LOAD(d)		SD_READ_ONCE((d)->seq)
#endif

/* Reader: first load of the count. Odd means the caller must retry. */
static inline u32 sd_seq_read_begin(const struct sd_chunk_desc *d)
{
	u32 s = SD_SEQ_LOAD(d);

	sd_smp_rmb();	/* R1: count before data; pairs with W2 (and W0 when odd) */
	return s;
}

/* Reader: true when the data copied since sd_seq_read_begin() may be torn. */
static inline bool sd_seq_read_retry(const struct sd_chunk_desc *d, u32 start)
{
	sd_smp_rmb();	/* R2: data before second count; pairs with W1 */
	return SD_SEQ_LOAD(d) != start;
}

#endif /* SD_SEQCOUNT_H */
