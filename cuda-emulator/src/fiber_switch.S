// Fiber context switch for x86-64 System V (the emulator's CUDA threads).
//
//   void recjpq_emu_switch(void** save_sp, void* load_sp)
//
// Saves the callee-saved registers, MXCSR and the x87 control word on the current stack, stores the
// stack pointer in *save_sp, loads load_sp and restores the same from there, then returns into the
// other context. A new fiber's stack is prepared by fiber_prepare() in runtime.cpp with the same
// frame layout and recjpq_emu_fiber_start as its return address.
//
// Frame (growing down from the return address): rbp, rbx, r12, r13, r14, r15, then 8 bytes holding
// MXCSR (low 4) and the x87 control word (next 2).
        .text
        .globl  recjpq_emu_switch
        .hidden recjpq_emu_switch
        .type   recjpq_emu_switch, @function
recjpq_emu_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   recjpq_emu_switch, .-recjpq_emu_switch

// First entry of a fiber: the prepared frame's r12 holds the fiber's argument. Aligns the stack and
// calls recjpq_emu_fiber_main(arg), which never returns.
        .globl  recjpq_emu_fiber_start
        .hidden recjpq_emu_fiber_start
        .type   recjpq_emu_fiber_start, @function
recjpq_emu_fiber_start:
        .cfi_startproc
        .cfi_undefined rip
        xorl    %ebp, %ebp
        movq    %r12, %rdi
        andq    $-16, %rsp
        call    recjpq_emu_fiber_main
        ud2
        .cfi_endproc
        .size   recjpq_emu_fiber_start, .-recjpq_emu_fiber_start

        .section .note.GNU-stack,"",@progbits
