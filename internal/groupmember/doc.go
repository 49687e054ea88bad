// Package groupmember is the consumer-group member that the data path
// (connector) and the control plane (control.Runner) are both built on: the
// group options they share, one offset tracker, the commit loop, the revoke
// and loss protocol, Abort and Ready. A fix to any of them lands once.
//
// What a member does, and what its user (the Handler) does:
//
//	kgo.NewClient(conn opts, topics, Member.Options()...)
//	assigned ─▶ Tracker owns them ─▶ Handler.Assigned: start work
//	poll ─▶ Take(from, end) ─▶ … ─▶ Work.Done / DoneUpTo   (any order)
//	RunCommits: every CommitInterval or Kick ─▶ commit points past the last commit
//	CommitPartition: one partition now (a data pause's ack); PreCommit edits every commit
//	revoked ─▶ Handler.Revoke: stop the work ─▶ commit(by): commit, disown
//	        ─▶ release ─▶ return
//	lost    ─▶ disown (nothing committed) ─▶ Handler.Lost: abandon the work
//	Leave   ─▶ AllowRebalance, LeaveGroup (the group revokes what is owned), own nothing
//	Abort   ─▶ Context cancelled; nothing is committed any more
//
// Invariants:
//   - A partition's commit point is the first offset not yet done: the end
//     of the longest done prefix of the work taken from it, or the start
//     of the first work not done. Work is taken in offset order and may
//     finish in any order (several batches in flight, a long command
//     holding later ones back); offsets between two pieces of work were
//     never delivered (compacted away, transaction markers) and do not hold
//     the point back. The point only moves forward, and is committed only
//     when it moved past what Kafka acknowledged.
//   - Work counts only in the ownership period that took it: marks of a
//     partition that was revoked, lost or left are ignored, also after it
//     is assigned again.
//   - Commits are serialised with revokes and losses (commitMu): a periodic
//     commit never straddles either, so nothing is committed for a
//     partition after its revoke returned, and nothing at all for a lost
//     one. A revoke or a loss preempts a periodic commit in flight rather
//     than wait for a broker slow to answer it (what it did not commit is
//     committed next round, if still owned). Every commit checks each
//     partition's answer and counts the result (CommitsMetric); the
//     coordinator refuses a commit from a stale generation.
//   - Revoke commits then returns: before the callback returns, the
//     revoked partitions' points are committed and the partitions disowned,
//     whether or not Handler.Revoke called commit.
//   - After Abort nothing more is committed, and work derived from Context
//     ends at once.
//   - Ready reports an error until the client's first assignment (kgo calls
//     it after every join, even with nothing assigned), and after Leave.
package groupmember
