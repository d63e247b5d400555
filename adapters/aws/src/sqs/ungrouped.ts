/**
 * Prefix of the MessageGroupId the driver gives a FIFO message sent without a `groupId`. Such
 * groups are reported back as no group (`groupId: undefined`); callers cannot use the prefix.
 */
export const UNGROUPED_PREFIX = 'polycloud-ungrouped:';
