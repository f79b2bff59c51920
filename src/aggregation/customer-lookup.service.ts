import { BadRequestException, Injectable } from '@nestjs/common';
import type { Deadline } from '../resilience/deadline.js';
import { AggregationService, type ProfileResult } from './aggregation.service.js';
import { DirectoryService } from './directory.service.js';

export type LookupResult = ProfileResult & { otherMatches: string[] };

/** Finds a profile by customer number, phone or e-mail, all within one deadline. */
@Injectable()
export class CustomerLookupService {
  constructor(
    private readonly aggregation: AggregationService,
    private readonly directory: DirectoryService,
  ) {}

  byId(customerId: string): Promise<ProfileResult> {
    return this.aggregation.getProfile(customerId);
  }

  async byPhone(phone: string): Promise<LookupResult | undefined> {
    const e164 = this.directory.normalizePhone(phone);
    if (!e164) throw new BadRequestException({ message: ['phone must be a valid phone number'] });
    return this.within((deadline) => this.directory.byPhone(e164, deadline));
  }

  byEmail(email: string): Promise<LookupResult | undefined> {
    return this.within((deadline) => this.directory.byEmail(email, deadline));
  }

  /** The directory look-up and then the first match's profile, under one deadline. */
  private async within(find: (deadline: Deadline) => Promise<string[]>): Promise<LookupResult | undefined> {
    const deadline = this.aggregation.deadline();
    try {
      const [first, ...others] = await find(deadline);
      if (first === undefined) return undefined;
      return { ...(await this.aggregation.getProfile(first, deadline)), otherMatches: others };
    } finally {
      deadline.dispose();
    }
  }
}
