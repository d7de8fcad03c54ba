/**
 * Replication lag of a replica, from the primary's WAL positions as the
 * health checks saw them: `time` is how long ago the primary first stood
 * beyond the replica's replay position (at the resolution of the checks),
 * `bytes` how much WAL the replica has still to replay.
 *
 * Unlike `now() - pg_last_xact_replay_timestamp()` this does not grow on a
 * primary that takes no writes, and it counts WAL that is not a commit.
 */
export class PrimaryPositions {
  /** Each WAL position the primary was seen at, with when it was first seen; oldest first. */
  private readonly seen: Array<{ lsn: bigint; at: number }> = [];

  /** @param keepMs how much history to keep: lags beyond it read as at least this long. */
  constructor(private readonly keepMs: number) {}

  /** The primary's position, as a probe just read it. */
  record(lsn: bigint, at = Date.now()): void {
    const last = this.seen.at(-1);
    // A primary behind what we saw lost WAL in a crash (or was replaced): start over.
    if (last && lsn < last.lsn) this.seen.length = 0;
    if (!last || lsn !== last.lsn) this.seen.push({ lsn, at });
    // Keep one sample older than the window, so that a lag longer than it still reads as that long.
    while (this.seen.length > 2 && this.seen[1]!.at < at - this.keepMs) this.seen.shift();
  }

  /** The primary's last known position, if a probe has read one. */
  get current(): bigint | undefined {
    return this.seen.at(-1)?.lsn;
  }

  /** Lag of a replica that has replayed up to `replayLsn`. */
  lagOf(replayLsn: bigint, at = Date.now()): { ms: number; bytes: bigint } {
    const ahead = this.seen.find((sample) => sample.lsn > replayLsn);
    const current = this.current;
    return {
      ms: ahead ? Math.max(0, at - ahead.at) : 0,
      bytes: current !== undefined && current > replayLsn ? current - replayLsn : 0n,
    };
  }
}
