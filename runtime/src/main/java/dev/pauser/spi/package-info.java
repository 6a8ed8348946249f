/**
 * The service interface an application implements to store a type the agent does not know
 * ({@link dev.pauser.spi.StateCodec}, found through {@code META-INF/services}). Depends on nothing.
 */
package dev.pauser.spi;
