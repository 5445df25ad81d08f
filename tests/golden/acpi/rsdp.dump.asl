/*
 * Root System Description Pointer (RSD PTR): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[000h 0000   8]                    Signature : "RSD PTR "
[008h 0008   1]                     Checksum : 62
[009h 0009   6]                       Oem ID : "FWCOEM"
[00Fh 0015   1]                     Revision : 02
[010h 0016   4]                 RSDT Address : 7FFD0040

[014h 0020   4]                       Length : 00000024
[018h 0024   8]                 XSDT Address : 000000007FFD0080
[020h 0032   1]            Extended Checksum : E0
[021h 0033   3]                     Reserved : 000000
