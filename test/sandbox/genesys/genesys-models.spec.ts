import { describe, expect, it } from 'vitest';
import { hasModel, modelProperties, modelViolations } from './genesys-models.js';

describe("modelViolations (the Genesys SDK's index.d.ts as the spec)", () => {
  it('reads the models the simulator is checked against', () => {
    for (const name of ['CreateCallResponse', 'Conversation', 'Participant', 'Call', 'IpAddressRangeListing', 'TokenInfo', 'ErrorBody']) {
      expect(hasModel(name), name).toBe(true);
    }
    expect(modelProperties('CreateCallResponse')).toEqual(['id', 'name', 'selfUri']);
  });

  it("finds the simulator's old click-to-dial answer: conversationId is no property of CreateCallResponse", () => {
    expect(modelViolations('CreateCallResponse', { conversationId: 'c0ffee' })).toEqual(['CreateCallResponse.conversationId: not a property of Models.CreateCallResponse']);
    expect(modelViolations('CreateCallResponse', { id: 'c0ffee', selfUri: '/api/v2/conversations/calls/c0ffee' })).toEqual([]);
  });

  it('checks JSON types through arrays, maps and nested models', () => {
    expect(modelViolations('IpAddressRangeListing', { entities: [{ cidr: '10.0.0.0/8' }, { cidr: 8 }] })).toEqual([
      'IpAddressRangeListing.entities[1].cidr: expected a string, got number 8',
    ]);
    expect(modelViolations('IpAddressRangeListing', { entities: { cidr: '10.0.0.0/8' } })).toEqual([
      'IpAddressRangeListing.entities: expected an array, got object {"cidr":"10.0.0.0/8"}',
    ]);
    expect(modelViolations('ErrorBody', { status: '404', messageParams: { a: 1 } })).toEqual([
      'ErrorBody.status: expected a number, got string "404"',
      'ErrorBody.messageParams.a: expected a string, got number 1',
    ]);
    expect(modelViolations('TokenInfo', { organization: { id: 'o', region: 'x' } })).toEqual(['TokenInfo.organization.region: not a property of Models.NamedEntity']);
  });

  it('reports required properties that are missing, and nulls', () => {
    // Conversation requires startTime and participants
    expect(modelViolations('Conversation', { id: 'c' })).toEqual([
      'Conversation.startTime: required by Models.Conversation but missing',
      'Conversation.participants: required by Models.Conversation but missing',
    ]);
    expect(modelViolations('CreateCallResponse', { id: null })).toEqual(['CreateCallResponse.id: null (Genesys omits absent values)']);
    expect(modelViolations('CreateCallResponse', [])).toEqual(['CreateCallResponse: expected an object (Models.CreateCallResponse), got an array']);
  });

  it('refuses a model the SDK does not have', () => {
    expect(() => modelViolations('NoSuchModel', {})).toThrow(/no model NoSuchModel/);
  });
});
