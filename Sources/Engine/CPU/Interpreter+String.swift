/// String instructions with REP/REPE/REPNE. Registers are committed after every element, so
/// a fault in the middle restarts the instruction where it stopped.
extension Interpreter {
    @inline(__always) private var countReg: UInt32 {
        state.pointee.addrsize32 ? gpr[1] : gpr[1] & 0xFFFF
    }

    @inline(__always) private func decrementCount() {
        if state.pointee.addrsize32 { gpr[1] &-= 1 } else { setReg16(1, gpr[1] &- 1) }
    }

    @inline(__always) private func index(_ r: Int) -> UInt32 {
        state.pointee.addrsize32 ? gpr[r] : gpr[r] & 0xFFFF
    }

    @inline(__always) private func advance(_ r: Int, _ w: Int) {
        let d = state.pointee.flags & Flag.DF != 0 ? UInt32(bitPattern: Int32(-w)) : UInt32(w)
        if state.pointee.addrsize32 { gpr[r] &+= d } else { setReg16(r, gpr[r] &+ d) }
    }

    func movs(_ w: Int) throws(Fault) {
        let src = dataSeg
        if state.pointee.rep == 0 {
            try write(SegReg.es, index(7), w, try read(src, index(6), w))
            advance(6, w); advance(7, w)
            return
        }
        while countReg != 0 {
            try write(SegReg.es, index(7), w, try read(src, index(6), w))
            advance(6, w); advance(7, w)
            decrementCount()
        }
    }

    func stos(_ w: Int) throws(Fault) {
        let v = reg(0, w)
        if state.pointee.rep == 0 {
            try write(SegReg.es, index(7), w, v)
            advance(7, w)
            return
        }
        while countReg != 0 {
            try write(SegReg.es, index(7), w, v)
            advance(7, w)
            decrementCount()
        }
    }

    func lods(_ w: Int) throws(Fault) {
        let src = dataSeg
        if state.pointee.rep == 0 {
            setReg(0, w, try read(src, index(6), w))
            advance(6, w)
            return
        }
        while countReg != 0 {
            setReg(0, w, try read(src, index(6), w))
            advance(6, w)
            decrementCount()
        }
    }

    func cmps(_ w: Int) throws(Fault) {
        let src = dataSeg
        let rep = state.pointee.rep
        if rep == 0 {
            _ = alu(7, try read(src, index(6), w), try read(SegReg.es, index(7), w), w)
            advance(6, w); advance(7, w)
            return
        }
        while countReg != 0 {
            _ = alu(7, try read(src, index(6), w), try read(SegReg.es, index(7), w), w)
            advance(6, w); advance(7, w)
            decrementCount()
            if zf() != (rep == 0xF3) { break }
        }
    }

    func scas(_ w: Int) throws(Fault) {
        let rep = state.pointee.rep
        if rep == 0 {
            _ = alu(7, reg(0, w), try read(SegReg.es, index(7), w), w)
            advance(7, w)
            return
        }
        while countReg != 0 {
            _ = alu(7, reg(0, w), try read(SegReg.es, index(7), w), w)
            advance(7, w)
            decrementCount()
            if zf() != (rep == 0xF3) { break }
        }
    }

    /// INS (`input`) and OUTS.
    func stringIO(input: Bool, _ w: Int) throws(Fault) {
        let port = UInt16(truncatingIfNeeded: gpr[2])
        try checkPortAccess(port, w)
        let src = dataSeg
        let repeated = state.pointee.rep != 0
        state.pointee.irqCheck = true
        if repeated && countReg == 0 { return }
        repeat {
            if input {
                // Check the destination before the port read has side effects.
                _ = try linear(SegReg.es, index(7), w)
                try write(SegReg.es, index(7), w, ports.read(port, width: w))
                advance(7, w)
            } else {
                ports.write(port, width: w, value: try read(src, index(6), w))
                advance(6, w)
            }
            if repeated { decrementCount() }
        } while repeated && countReg != 0
    }
}
