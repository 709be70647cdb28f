// Task events back to containerd: Events.Forward over its ttrpc socket (TTRPC_ADDRESS), one at
// a time in the order they were queued (a start is never overtaken by its exit). Envelopes carry
// a bare type URL and a non-zero timestamp, as containerd requires. A failed send is retried once
// on a new connection, then logged; events never fail the task operation.
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Events } from './proto/gen/github.com/containerd/containerd/api/services/ttrpc/events/v1/events_pb.js';
import { TtrpcClient } from './ttrpc/client.js';

const FORWARD_TIMEOUT_MS = 5_000;

export class EventPublisher {
  private client: Promise<TtrpcClient> | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly address: string,
    private readonly namespace: string,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Queues `topic` (`/tasks/exit`) with `schema`'s message; resolves once sent (or given up). */
  publish<S extends DescMessage>(topic: string, schema: S, value: MessageInitShape<S>): Promise<void> {
    const send = async (): Promise<void> => {
      if (this.address === '') return;
      const event = { typeUrl: schema.typeName, value: toBinary(schema, create(schema, value)) };
      // Twice: a connection to a containerd that restarted since the last event fails once.
      for (let attempt = 1; ; attempt++) {
        try {
          this.client ??= TtrpcClient.connect(this.address);
          const client = await this.client;
          await client.callMethod(Events.method.forward, { envelope: { timestamp: timestampFromDate(new Date()), namespace: this.namespace, topic, event } }, { timeoutMs: FORWARD_TIMEOUT_MS });
          return;
        } catch (err) {
          const stale = await this.client?.catch(() => undefined);
          stale?.close();
          this.client = undefined;
          if (attempt >= 2) return this.onError(new Error(`cannot publish ${topic} to ${this.address}: ${(err as Error).message}`));
        }
      }
    };
    this.chain = this.chain.then(send);
    return this.chain;
  }

  /** Sends what is queued, then closes the connection. */
  async close(): Promise<void> {
    await this.chain;
    const client = await this.client?.catch(() => undefined);
    client?.close();
  }
}
