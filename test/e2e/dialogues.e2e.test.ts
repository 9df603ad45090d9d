// Plays every dialogue file over a real socket against the built server (the unit suite plays
// the same files against the pure session), each round sent as one pipelined write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDialogues, replyMatches } from '../helpers/dialogue.js';
import { RawClient } from '../helpers/raw-client.js';
import { type RunningServer, startServer } from '../helpers/server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

describe('dialogues over loopback', () => {
  for (const dialogue of loadDialogues()) {
    it(`server plays ${dialogue.name}`, async () => {
      const client = await RawClient.connect(server.port);
      try {
        expect(replyMatches((await client.reply()).last, dialogue.greeting)).toBe(true);
        for (const round of dialogue.rounds) {
          await client.send(round.send);
          for (const want of round.expect) {
            const got = await client.reply();
            expect(replyMatches(got.last, want), `${got.last} vs ${want} after ${JSON.stringify(round.send.toString('latin1'))}`).toBe(true);
          }
        }
      } finally {
        client.close();
      }
    });
  }
});
