package dev.pauser.agent.state;

import dev.pauser.spi.StateCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The SPI example from {@link StateCodec}'s Javadoc, registered in META-INF/services of the test class path. */
public final class Vec3Codec implements StateCodec {
    @Override
    public boolean handles(Class<?> type) {
        return type == Vec3.class;
    }

    @Override
    public String dtype() {
        return "F64";
    }

    @Override
    public ByteBuffer encode(Object value) {
        Vec3 v = (Vec3) value;
        return ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putDouble(v.x).putDouble(v.y).putDouble(v.z)
                .flip();
    }

    @Override
    public Object decode(ByteBuffer data, Object current, Class<?> type) {
        if (data.remaining() != 24) {
            throw new IllegalArgumentException("a Vec3 needs 24 bytes, got " + data.remaining());
        }
        ByteBuffer le = data.order(ByteOrder.LITTLE_ENDIAN);
        return new Vec3(le.getDouble(), le.getDouble(), le.getDouble());
    }
}
