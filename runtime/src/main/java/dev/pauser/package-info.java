/**
 * What a training program compiles against: {@link dev.pauser.TrainStep} and {@link dev.pauser.TrainState}. No
 * behaviour; a program runs unchanged without the agent. Depends on nothing.
 */
package dev.pauser;
