/**
 * DeepLearning4J for Pauser: {@link dev.pauser.dl4j.NetworkCodec}, the {@code dev.pauser.spi.StateCodec} that
 * checkpoints a {@code @TrainState} {@code MultiLayerNetwork} or {@code ComputationGraph} and restores it in place.
 * Depends on DL4J, ND4J and the SPI, all provided by the application.
 */
package dev.pauser.dl4j;
