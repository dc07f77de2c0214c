/**
 * messages is the part of the DMTF Base message registry that hostfleet speaks, in both
 * directions: the emulator builds its error bodies with redfishError, and the client turns any
 * BMC's error body into one readable line with redfishErrorText. Message texts follow the
 * registry (Base.1.16.0) so that tools written against real BMCs read ours the same way.
 */

/** BASE_REGISTRY is the registry prefix of every MessageId the emulator emits. */
export const BASE_REGISTRY = 'Base.1.16.0';

/** REDFISH_MESSAGES maps a Base message to its template (%1… are MessageArgs), severity and resolution. */
export const REDFISH_MESSAGES = {
  GeneralError: {
    text: 'A general error has occurred.  See Resolution for information on how to resolve the error, or @Message.ExtendedInfo if Resolution is not provided.',
    severity: 'Critical',
    resolution: 'None.',
  },
  Success: { text: 'The request completed successfully.', severity: 'OK', resolution: 'None.' },
  Created: { text: 'The resource was created successfully.', severity: 'OK', resolution: 'None.' },
  NoOperation: {
    text: 'The request body submitted contain no data to act upon and no changes to the resource took place.',
    severity: 'Warning',
    resolution: 'Add properties in the JSON object and resubmit the request.',
  },
  MalformedJSON: {
    text: 'The request body submitted was malformed JSON and could not be parsed by the receiving service.',
    severity: 'Critical',
    resolution: 'Ensure that the request body is valid JSON and resubmit the request.',
  },
  PropertyUnknown: {
    text: 'The property %1 is not in the list of valid properties for the resource.',
    severity: 'Warning',
    resolution: 'Remove the unknown property from the request body and resubmit the request if the operation failed.',
  },
  PropertyNotWritable: {
    text: 'The property %1 is a read-only property and cannot be assigned a value.',
    severity: 'Warning',
    resolution: 'Remove the property from the request body and resubmit the request if the operation failed.',
  },
  PropertyMissing: {
    text: 'The property %1 is a required property and must be included in the request.',
    severity: 'Warning',
    resolution:
      'Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed.',
  },
  PropertyValueNotInList: {
    text: "The value '%1' for the property %2 is not in the list of acceptable values.",
    severity: 'Warning',
    resolution:
      'Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.',
  },
  PropertyValueTypeError: {
    text: "The value '%1' for the property %2 is not a type that the property can accept.",
    severity: 'Warning',
    resolution:
      'Correct the value for the property in the request body and resubmit the request if the operation failed.',
  },
  PropertyValueFormatError: {
    text: "The value '%1' for the property %2 is not a format that the property can accept.",
    severity: 'Warning',
    resolution:
      'Correct the value for the property in the request body and resubmit the request if the operation failed.',
  },
  ActionNotSupported: {
    text: 'The action %1 is not supported by the resource.',
    severity: 'Critical',
    resolution:
      'The action supplied cannot be resubmitted to the implementation.  Perhaps the action was invalid, the wrong resource was the target or the implementation documentation may be of assistance.',
  },
  ActionParameterMissing: {
    text: 'The action %1 requires the parameter %2 to be present in the request body.',
    severity: 'Critical',
    resolution: 'Supply the action with the required parameter in the request body when the request is resubmitted.',
  },
  ActionParameterUnknown: {
    text: 'The action %1 was submitted with the invalid parameter %2.',
    severity: 'Warning',
    resolution: 'Correct the invalid parameter and resubmit the request if the operation failed.',
  },
  ActionParameterValueNotInList: {
    text: "The value '%1' for the parameter %2 in the action %3 is not in the list of acceptable values.",
    severity: 'Warning',
    resolution: 'Choose a value from the enumeration list and resubmit the request if the operation failed.',
  },
  ResourceMissingAtURI: {
    text: "The resource at the URI '%1' was not found.",
    severity: 'Critical',
    resolution: 'Place a valid resource at the URI or correct the URI and resubmit the request.',
  },
  NoValidSession: {
    text: 'There is no valid session established with the implementation.',
    severity: 'Critical',
    resolution: 'Establish a session before attempting any operations.',
  },
  PreconditionFailed: {
    text: 'The ETag supplied did not match the ETag required to change this resource.',
    severity: 'Critical',
    resolution: 'Try the operation again using the appropriate ETag.',
  },
  OperationNotAllowed: {
    text: 'The HTTP method is not allowed on this resource.',
    severity: 'Critical',
    resolution: 'None.',
  },
  InternalError: {
    text: 'The request failed due to an internal service error.  The service is still operational.',
    severity: 'Critical',
    resolution: 'Resubmit the request.  If the problem persists, consider resetting the service.',
  },
} as const;

/** RedfishMessageId is one of the Base messages above. */
export type RedfishMessageId = keyof typeof REDFISH_MESSAGES;

/** RedfishMessage is one @Message.ExtendedInfo entry (Message.v1_1_2). */
export interface RedfishMessage {
  readonly '@odata.type': '#Message.v1_1_2.Message';
  readonly MessageId: string;
  readonly Message: string;
  readonly MessageArgs: readonly string[];
  readonly MessageSeverity: string;
  readonly Severity: string;
  readonly Resolution: string;
  readonly RelatedProperties?: readonly string[];
}

/** redfishMessage builds one ExtendedInfo entry; relatedProperties are JSON pointers such as '#/Boot/HttpBootUri'. */
export function redfishMessage(
  id: RedfishMessageId,
  args: readonly string[] = [],
  relatedProperties?: readonly string[],
): RedfishMessage {
  const m = REDFISH_MESSAGES[id];
  const text = m.text.replace(/%(\d+)/g, (_, n: string) => args[Number(n) - 1] ?? '');
  return {
    '@odata.type': '#Message.v1_1_2.Message',
    MessageId: `${BASE_REGISTRY}.${id}`,
    Message: text,
    MessageArgs: args,
    MessageSeverity: m.severity,
    Severity: m.severity,
    Resolution: m.resolution,
    ...(relatedProperties && relatedProperties.length > 0 ? { RelatedProperties: relatedProperties } : {}),
  };
}

/**
 * redfishError builds a Redfish error response body (DSP0266 §9.6 "Error responses"): a
 * general code and message plus one ExtendedInfo entry per problem, so a client can name every
 * offending property at once.
 */
export function redfishError(messages: readonly RedfishMessage[]): {
  error: { code: string; message: string; '@Message.ExtendedInfo': readonly RedfishMessage[] };
} {
  const first = messages[0];
  const single = messages.length === 1 && first !== undefined;
  return {
    error: {
      code: single ? first.MessageId : `${BASE_REGISTRY}.GeneralError`,
      message: single ? first.Message : REDFISH_MESSAGES.GeneralError.text,
      '@Message.ExtendedInfo': messages,
    },
  };
}

/**
 * redfishErrorText turns any BMC's error body into one line: the ExtendedInfo messages (with
 * their related properties), else error.message, else the raw text cut short. Vendors differ
 * in what they fill in, so every field is optional here.
 */
export function redfishErrorText(body: unknown): string {
  if (typeof body === 'string') return body.trim().slice(0, 300);
  const err = (body as { error?: unknown } | null)?.error as
    { message?: unknown; code?: unknown; '@Message.ExtendedInfo'?: unknown } | undefined;
  if (!err || typeof err !== 'object') return '';
  const infos = Array.isArray(err['@Message.ExtendedInfo']) ? (err['@Message.ExtendedInfo'] as unknown[]) : [];
  const parts: string[] = [];
  for (const i of infos) {
    if (!i || typeof i !== 'object') continue;
    const msg = (i as { Message?: unknown }).Message;
    const id = (i as { MessageId?: unknown }).MessageId;
    const rel = (i as { RelatedProperties?: unknown }).RelatedProperties;
    let line = typeof msg === 'string' ? msg : typeof id === 'string' ? id : '';
    if (Array.isArray(rel) && rel.length > 0) line += ` (${rel.filter((r) => typeof r === 'string').join(', ')})`;
    if (line) parts.push(line);
  }
  if (parts.length > 0) return parts.join('; ');
  if (typeof err.message === 'string') return err.message;
  return typeof err.code === 'string' ? err.code : '';
}
