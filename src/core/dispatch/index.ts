/** dispatch is the move workflow as a pure state machine. */
export * from './move.js';
