/** Injection tokens of the admin plane. */
export const CONTROL_PLANE = Symbol('CONTROL_PLANE');
