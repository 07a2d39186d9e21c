/** Injection tokens of the admin plane. */
export const CONTROL_PLANE = Symbol('CONTROL_PLANE');
/** LB_ADMIN_TOKEN, or undefined when run-time state changes are disabled. */
export const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');
