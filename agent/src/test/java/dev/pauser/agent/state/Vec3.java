package dev.pauser.agent.state;

/** An app type no built-in codec takes (no no-arg constructor, final fields): checkpointed through {@link Vec3Codec}. */
final class Vec3 {
    final double x;
    final double y;
    final double z;

    Vec3(double x, double y, double z) {
        this.x = x;
        this.y = y;
        this.z = z;
    }
}
