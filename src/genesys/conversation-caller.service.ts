import { Injectable, Optional } from '@nestjs/common';
import { DirectoryService } from '../aggregation/directory.service.js';
import { SourceCache } from '../cache/source-cache.js';
import { Deadline } from '../resilience/deadline.js';
import { callerNumber } from './conversation-caller.js';
import { GenesysConfig } from './genesys.config.js';
import { PREFETCHED } from './notifications/conversation-mapping.js';
import { NotificationMetrics } from './notifications/notifications.metrics.js';
import { GenesysApiClient } from './platform/genesys-api.client.js';

export type ConversationCaller = { conversation: 'unknown' } | { conversation: 'found'; e164: string | undefined };

/**
 * Who is calling in a Genesys conversation, from the Platform API (the service's own OAuth
 * client). The answer is remembered for CACHE_LOOKUP_TTL_MS, so refreshing the side panel does not
 * spend the organisation's Platform API budget again. Connector errors propagate (the caller answers 503).
 */
@Injectable()
export class ConversationCallerService {
  constructor(
    private readonly genesysApi: GenesysApiClient,
    private readonly directory: DirectoryService,
    private readonly cache: SourceCache,
    private readonly config: GenesysConfig,
    @Optional() private readonly notifications?: NotificationMetrics,
  ) {}

  get enabled(): boolean {
    return this.genesysApi.enabled;
  }

  async callerOf(conversationId: string): Promise<ConversationCaller> {
    const remembered = await this.cache.getLookup('conversation', conversationId);
    if (remembered) {
      if (remembered[1] === PREFETCHED) this.notifications?.panelHits.inc();
      return { conversation: 'found', e164: remembered[0] };
    }
    const deadline = Deadline.after(this.config.timeoutMs);
    const conversation = await this.genesysApi.getConversation(conversationId, deadline.signal).finally(() => deadline.dispose());
    if (!conversation) return { conversation: 'unknown' };
    const number = callerNumber(conversation);
    const e164 = number === undefined ? undefined : this.directory.normalizePhone(number);
    await this.cache.putLookup('conversation', conversationId, e164 === undefined ? [] : [e164]);
    return { conversation: 'found', e164 };
  }
}
