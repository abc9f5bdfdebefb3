/* Replaying the spool into the database once it can take it (replay.c). */
#ifndef SIPASD_REPLAY_H
#define SIPASD_REPLAY_H

/* After commit_start: every flush then replays the spool when it can. */
void replay_start(void);

#endif
