/*
 * Root System Description Pointer (RSD PTR): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[0008]                          Signature : "RSD PTR "
[0001]                           Checksum : 62
[0006]                             Oem ID : "FWCOEM"
[0001]                           Revision : 02
[0004]                       RSDT Address : 7FFD0040

[0004]                             Length : 00000024
[0008]                       XSDT Address : 000000007FFD0080
[0001]                  Extended Checksum : E0
[0003]                           Reserved : 000000
