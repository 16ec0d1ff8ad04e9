// Fiber context switch for x86-64 System V (the emulator's CUDA threads).
//
//   void recjpq_emu_switch(void** save_sp, void* load_sp)
//
// Saves the callee-saved registers on the current stack, stores the stack pointer in *save_sp,
// loads load_sp and restores the same from there, then returns into the other context. A new
// fiber's stack is prepared by fiber_prepare() in runtime.cpp with the same frame layout and
// recjpq_emu_fiber_start as its return address. MXCSR and the x87 control word are not switched:
// every fiber runs with the launching thread's, and kernels never change them (saving them made a
// switch several times slower).
//
// Frame (growing down from the return address): rbp, rbx, r12, r13, r14, r15.
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
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
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
