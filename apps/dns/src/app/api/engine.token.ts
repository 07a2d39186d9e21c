/** Injection token of the running controller (controller/engine.ts). */
export const ENGINE = Symbol('ENGINE');
