/**
 * Instrumentation: which classes hold {@code @TrainStep} methods (annotated, implemented or overridden), the advice
 * pasted into them, and the report of what was instrumented. Depends on {@code gate} and {@code log}.
 */
package dev.pauser.agent.instrument;
