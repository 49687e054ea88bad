package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seed-a550a1ef/kafka-qdrant/control/job"
	"github.com/seed-a550a1ef/kafka-qdrant/schemas"
)

// The data path's part in switching an alias after a replay. Switching
// while records keep arriving must lose no write and let no older write
// overwrite a newer one; with every replica applying records to the alias
// that is only exact while nothing is applied:
//
//	replay until close ─▶ publish a data pause (schemas.DataPause, in the
//	  restore's running status event, checkpointed) ─▶ every replica holds
//	  the partitions of its topics, finishes the batch in flight and
//	  commits with metadata naming the pause ─▶ every partition's committed
//	  offset carries it: those offsets are exactly what was applied to the
//	  alias's old collection, and nothing more is being written
//	  ─▶ replay up to them ─▶ switch the alias ─▶ lift the pause (a status
//	  event without it) ─▶ the data path goes on into the new collection
//
// The pause lapses at its Until (PauseTimeout plus pauseGrace from its
// start) whatever happens, and ends with the command's next attempt or
// final state: a restore that died leaves no replica paused for long.

// pauseGrace is how long a pause outlives the restore's PauseTimeout: a
// restore that fails at the timeout lifts it itself.
const pauseGrace = 30 * time.Second

// pauseSpacing spaces the reads of the data group's committed offsets
// while the restore waits for every partition to acknowledge a pause.
const pauseSpacing = 100 * time.Millisecond

// newPause is a data pause of collection's topics starting at now.
func (h *handlers) newPause(collection string, topics []string, now time.Time) schemas.DataPause {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return schemas.DataPause{ID: hex.EncodeToString(b[:]), Collection: collection, Topics: slices.Clone(topics),
		Until: now.Add(h.o.PauseTimeout + pauseGrace).UTC()}
}

// awaitPause waits until the data group's committed offset of every
// partition of the pause's topics acknowledges it, and returns those
// offsets: every record below them was applied, none above them is being
// applied. Progress shows what is still missing.
func (h *handlers) awaitPause(ctx context.Context, rp *replayer, dp schemas.DataPause) (offsets, error) {
	var missing []tp
	for {
		got, miss, err := rp.kv.acknowledged(ctx, dp.Topics, dp.ID)
		if err == nil && len(miss) == 0 {
			return got, nil
		}
		if err != nil {
			h.o.Log.Warn("restore: reading the data group's offsets during the pause; retrying", "err", err)
		} else if len(miss) != len(missing) {
			missing = miss
			rp.s.Progress(rp.progress(nil, fmt.Sprintf("data path pausing: %d partitions left to acknowledge", len(miss))))
		}
		if err := job.Sleep(ctx, h.o.Clock, pauseSpacing); err != nil {
			if ctx.Err() != nil && len(missing) > 0 {
				return nil, fmt.Errorf("%w; partitions not acknowledging the pause: %s", err, tpList(missing, 10))
			}
			return nil, err
		}
	}
}

// tpList renders at most n partitions.
func tpList(ps []tp, n int) string {
	var parts []string
	for i, p := range ps {
		if i == n {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(ps)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s[%d]", p.topic, p.partition))
	}
	return strings.Join(parts, ", ")
}
