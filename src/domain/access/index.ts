/** The access rules (DOMAIN §5), pure. Import from here. */
export * from './types.ts';
export { decide, decideRecordAccess, appScopeAllows, DEFAULT_POLICY, HOLDER_READABLE_STATES, type AccessPolicy } from './decide.ts';
export { authorizationStatus, consentState, recordAuthorization, personLinked, type ConsentState } from './authorization.ts';
export { canReadHistory, decideWrite, canManageSharing, canChangeLifecycle, type LifecycleEventType } from './companions.ts';
export {
  validateVisibilityFlags,
  invisibleStage,
  invisibleAutoVisibleAt,
  hiddenFromPatient,
  INVISIBLE_NOTICE_DAYS,
  INVISIBLE_AUTO_VISIBLE_MONTHS,
  type InvisibleStage,
} from './visibility.ts';
export { emergencyWindowEnd, emergencySessionState, DEFAULT_EMERGENCY_WINDOW_HOURS } from './emergency.ts';
export {
  loadMatrix,
  defaultMatrix,
  matrixAllows,
  mesCategoryOf,
  professionLabel,
  MES_CATEGORIES,
  MES_CATEGORY_LABELS,
  type HabilitationMatrix,
  type MatrixProfession,
  type MesCategory,
} from './matrix.ts';
export {
  REASON_CODES,
  ALLOW_REASONS,
  DENY_REASONS,
  isAllowReason,
  explain,
  type ReasonCode,
  type AllowReason,
  type DenyReason,
} from './reasons.ts';
