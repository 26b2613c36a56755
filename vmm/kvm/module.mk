# SPDX-License-Identifier: GPL-2.0 OR MIT
# vmm/kvm/: the VMM library on /dev/kvm, the test guest's runtime, and how a
# KVM test program is built. Read after proto/, guest/ and host/, so SD_SRCS
# already lists them.
#
# A KVM test is one file, tests/kvm/test_NAME.c, compiled twice:
#   - with FS_CFLAGS -DSD_KVM_GUEST (freestanding, never sanitized) and linked
#     with the guest runtime and guest/ + proto/ into the guest image
#     $(BUILD)/kvm/guest/test_NAME.elf;
#   - with USER_CFLAGS as the host program $(BUILD)/kvm/test_NAME, linked with
#     libsdkvm.a, libsd.a and the embedded image (symbols sd_guest_image and
#     sd_guest_image_end).
# tests/kvm/module.mk lists the programs and wires `make kvm-check`.

KVM_LIB_SRCS := vmm/kvm/kvm.c vmm/kvm/reg.c
KVM_LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(KVM_LIB_SRCS))
KVM_LIB := $(BUILD)/libsdkvm.a
KVM_INC := -Ivmm/kvm -Ivmm/kvm/guest -Itests/kvm

$(KVM_LIB): $(KVM_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/vmm/kvm/%.o: vmm/kvm/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $@")
	$(Q)$(CC) $(USER_CFLAGS) $(KVM_INC) -MMD -MP -c $< -o $@

# ---- the guest side: runtime, guest/ and proto/, freestanding ---------------
KVM_GUEST_DIR := $(BUILD)/kvm/guest
KVM_RT_OBJS := $(KVM_GUEST_DIR)/rt/boot.o $(KVM_GUEST_DIR)/rt/rt.o $(KVM_GUEST_DIR)/rt/transport.o
KVM_GUEST_LIB := $(KVM_GUEST_DIR)/libsdguest.a
KVM_GUEST_LIB_OBJS := $(patsubst %.c,$(BUILD)/fs/%.o,$(filter proto/% guest/%,$(SD_SRCS) $(SD_ENV_SRCS)))
KVM_GUEST_LDS := vmm/kvm/guest/guest.lds

$(KVM_GUEST_DIR)/rt/%.o: vmm/kvm/guest/%.S $(FS_INC)/.stamp
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AS [G]  $@")
	$(Q)$(CC) $(FS_CFLAGS) $(KVM_INC) -MMD -MP -c $< -o $@

$(KVM_GUEST_DIR)/rt/%.o: vmm/kvm/guest/%.c $(FS_INC)/.stamp
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC [G]  $@")
	$(Q)$(CC) $(FS_CFLAGS) $(KVM_INC) -MMD -MP -c $< -o $@

$(KVM_GUEST_LIB): $(KVM_GUEST_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AR [G]  $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# $(call guest_image,DIR,SRCDIR,EXTRA_FLAGS): rules that turn SRCDIR/NAME.c into
# DIR/NAME.image.o, the freestanding guest half linked with the runtime and
# guest/ + proto/, embedded as sd_guest_image..sd_guest_image_end.
define guest_image
$(1)/%.o: $(2)/%.c $$(FS_INC)/.stamp
	@mkdir -p $$(dir $$@)
	$$(if $$(Q),@echo "  CC [G]  $$@")
	$$(Q)$$(CC) $$(FS_CFLAGS) -DSD_KVM_GUEST $$(KVM_INC) $(3) -MMD -MP -c $$< -o $$@

$(1)/%.elf: $(1)/%.o $$(KVM_RT_OBJS) $$(KVM_GUEST_LIB) $$(KVM_GUEST_LDS)
	$$(if $$(Q),@echo "  LD [G]  $$@")
	$$(Q)$$(CC) -nostdlib -static -no-pie -Wl,-T,$$(KVM_GUEST_LDS) -Wl,--build-id=none \
		-Wl,--no-warn-rwx-segments -o $$@ $$(KVM_RT_OBJS) $$< $$(KVM_GUEST_LIB)

$(1)/%.image.o: $(1)/%.elf vmm/kvm/guest_image.S
	$$(if $$(Q),@echo "  AS      $$@")
	$$(Q)$$(CC) -c -DSD_GUEST_ELF='"$$<"' vmm/kvm/guest_image.S -o $$@

.PRECIOUS: $(1)/%.elf $(1)/%.o $(1)/%.image.o
endef
$(eval $(call guest_image,$(KVM_GUEST_DIR),tests/kvm,))

# ---- the host side ------------------------------------------------------------
$(BUILD)/kvm/test_%: tests/kvm/test_%.c $(KVM_GUEST_DIR)/test_%.image.o $(KVM_LIB) $(BUILD)/libsd.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CCLD    $@")
	$(Q)$(CC) $(USER_CFLAGS) $(KVM_INC) -MMD -MP $< -o $@ $(KVM_GUEST_DIR)/test_$*.image.o \
		$(KVM_LIB) $(BUILD)/libsd.a $(USER_LDFLAGS) $(URCU_LIBS) -lpthread

.SECONDARY: $(KVM_RT_OBJS)
-include $(KVM_LIB_OBJS:.o=.d) $(KVM_RT_OBJS:.o=.d)
